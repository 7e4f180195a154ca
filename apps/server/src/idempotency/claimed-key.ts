declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this request claimed (IdempotencyGuard); its answer is stored when sent. */
    idempotencyKey?: { scope: string; key: string };
  }
}

export {};
