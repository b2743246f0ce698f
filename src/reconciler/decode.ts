/**
 * Decoding history payloads and failures the way the client does (payload codecs included), with the SDK's
 * public API only: `client.options.loadedDataConverter`, `arrayFromPayloads` and the failure converter.
 * The SDK's own helpers for this live in `@temporalio/common/lib/internal-non-workflow`, which is not a
 * public API and may change in any minor release.
 */
import { arrayFromPayloads, type LoadedDataConverter, type Payload, type PayloadCodec, type ProtoFailure } from '@temporalio/common';

/** Run payloads through the codecs, last codec first (the reverse of encoding). */
export async function decodePayloads(codecs: readonly PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  let out = payloads;
  for (let i = codecs.length - 1; i >= 0; i--) out = await codecs[i]!.decode(out);
  return out;
}

async function decodeDetails(codecs: readonly PayloadCodec[], details: { payloads?: Payload[] | null } | null | undefined) {
  return details ? { payloads: await decodePayloads(codecs, details.payloads ?? []) } : details;
}

/** A failure with every payload in it decoded: encoded message/stack, details, heartbeat details, causes. */
export async function decodeFailure(codecs: readonly PayloadCodec[], failure: ProtoFailure): Promise<ProtoFailure> {
  const {
    encodedAttributes,
    cause,
    applicationFailureInfo: app,
    timeoutFailureInfo: timeout,
    canceledFailureInfo: canceled,
    resetWorkflowFailureInfo: reset,
  } = failure;
  return {
    ...failure,
    encodedAttributes: encodedAttributes ? (await decodePayloads(codecs, [encodedAttributes]))[0] : encodedAttributes,
    cause: cause ? await decodeFailure(codecs, cause) : cause,
    applicationFailureInfo: app ? { ...app, details: await decodeDetails(codecs, app.details) } : app,
    timeoutFailureInfo: timeout ? { ...timeout, lastHeartbeatDetails: await decodeDetails(codecs, timeout.lastHeartbeatDetails) } : timeout,
    canceledFailureInfo: canceled ? { ...canceled, details: await decodeDetails(codecs, canceled.details) } : canceled,
    resetWorkflowFailureInfo: reset ? { ...reset, lastHeartbeatDetails: await decodeDetails(codecs, reset.lastHeartbeatDetails) } : reset,
  };
}

/** Workflow (or activity) arguments from history: decoded, then converted to values. */
export async function decodeArguments(converter: LoadedDataConverter, payloads: Payload[] | null | undefined): Promise<unknown[]> {
  return arrayFromPayloads(converter.payloadConverter, payloads ? await decodePayloads(converter.payloadCodecs, payloads) : payloads);
}

/** A failure from history as the Error the client would throw (TemporalFailure subclasses); undefined if none. */
export async function decodeFailureToError(converter: LoadedDataConverter, failure: ProtoFailure | null | undefined): Promise<Error | undefined> {
  return failure ? converter.failureConverter.failureToError(await decodeFailure(converter.payloadCodecs, failure), converter.payloadConverter) : undefined;
}
