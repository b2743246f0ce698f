/**
 * The reconciler reads a closed run's first argument and failure from history the way the client would,
 * payload codecs included — with the SDK's public API only (src/reconciler/decode.ts).
 */
import {
  ApplicationFailure,
  DefaultFailureConverter,
  defaultPayloadConverter,
  type LoadedDataConverter,
  type Payload,
  type PayloadCodec,
  type ProtoFailure,
} from '@temporalio/common';
import { decodeArguments, decodeFailureToError } from '../src/reconciler/decode';

/** A codec that wraps each payload in another (as an encryption codec would), tagged with its name. */
function wrappingCodec(name: string): PayloadCodec {
  const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('base64');
  return {
    async encode(payloads: Payload[]) {
      return payloads.map((p) => ({
        metadata: { encoding: Buffer.from(`binary/${name}`) },
        data: Buffer.from(JSON.stringify({ m: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), d: b64(p.data) })),
      }));
    },
    async decode(payloads: Payload[]) {
      return payloads.map((p) => {
        expect(Buffer.from(p.metadata!.encoding!).toString()).toBe(`binary/${name}`);
        const { m, d } = JSON.parse(Buffer.from(p.data!).toString()) as { m: Record<string, string>; d: string };
        return { metadata: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(d, 'base64') };
      });
    },
  };
}

const codecs = [wrappingCodec('outer'), wrappingCodec('inner')];
const converter: LoadedDataConverter = {
  payloadConverter: defaultPayloadConverter,
  failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
  payloadCodecs: codecs,
};
/** Encode as the SDK does: first codec first. */
async function encode(payloads: Payload[]): Promise<Payload[]> {
  let out = payloads;
  for (const c of codecs) out = await c.encode(out);
  return out;
}

it('decodes workflow arguments through every codec', async () => {
  const args = [{ retailer: 'spar', when: '2026-11-27' }, 42];
  const encoded = await encode(args.map((a) => defaultPayloadConverter.toPayload(a)));
  expect(await decodeArguments(converter, encoded)).toEqual(args);
  expect(await decodeArguments(converter, undefined)).toEqual([]);
});

it('decodes a failure whose message, details and cause are encoded', async () => {
  const cause = ApplicationFailure.create({ message: 'upstream 503', type: 'Upstream' });
  const err = ApplicationFailure.create({ message: 'scrape failed', type: 'Scrape', details: [{ page: 7 }], cause });
  const failure = converter.failureConverter.errorToFailure(err, defaultPayloadConverter);
  // What the server stores: every payload in the failure went through the codecs.
  const encodeFailure = async (f: ProtoFailure): Promise<ProtoFailure> => ({
    ...f,
    encodedAttributes: f.encodedAttributes ? (await encode([f.encodedAttributes]))[0] : f.encodedAttributes,
    cause: f.cause ? await encodeFailure(f.cause) : f.cause,
    applicationFailureInfo: f.applicationFailureInfo && {
      ...f.applicationFailureInfo,
      details: f.applicationFailureInfo.details && { payloads: await encode(f.applicationFailureInfo.details.payloads ?? []) },
    },
  });
  const stored = await encodeFailure(failure);
  expect(stored.message).not.toContain('scrape failed');

  const decoded = await decodeFailureToError(converter, stored);
  expect(decoded).toBeInstanceOf(ApplicationFailure);
  expect(decoded!.message).toBe('scrape failed');
  expect((decoded as ApplicationFailure).details).toEqual([{ page: 7 }]);
  expect((decoded!.cause as Error | undefined)?.message).toBe('upstream 503');
  expect(await decodeFailureToError(converter, undefined)).toBeUndefined();
});
