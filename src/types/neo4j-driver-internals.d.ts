// neo4j-driver's chunk reassembly (bolt-wire-guard.ts patches it); the package ships no types for its internals
declare module 'neo4j-driver-bolt-connection/lib/channel/chunking.js' {
  const chunking: { Dechunker: { prototype: object } };
  export default chunking;
}
