/** The gateway's version (package.json's; a unit test keeps them equal) and the Neo4j version its Query API surface follows. */
export const GATEWAY_VERSION = '0.1.0';
/** the Neo4j version the Query API surface follows (clients parse it from the discovery document) */
export const COMPAT_NEO4J_VERSION = '5.26.0';
/** how the gateway names itself to Neo4j (Bolt user agent) and to clients (discovery document) */
export const GATEWAY_AGENT = `neo4j-edge-gateway/${GATEWAY_VERSION}`;
