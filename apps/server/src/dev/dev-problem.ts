/** Something stops dev mode from starting; the message names it and says what to do (no stack trace). */
export class DevProblem extends Error {
  override name = 'DevProblem';
}
