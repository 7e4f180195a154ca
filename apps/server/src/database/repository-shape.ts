/**
 * A repository's public methods without its class identity (a class with private fields only
 * matches itself): what a service depends on, so an in-memory fake can stand in for it in unit tests.
 */
export type RepositoryShape<T> = { [K in keyof T]: T[K] };
