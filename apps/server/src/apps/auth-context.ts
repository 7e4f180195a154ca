/** Who is calling, attached to the request by the key guard. */
export interface AuthContext {
  appId: string;
  keyId: string;
  kind: 'server' | 'client';
  /** For client keys: the signed-in user's external id, proven by the user token. */
  userExternalId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}
