/**
 * A planning refusal: the planner proves a shape mergeable or refuses it with a code and a reason
 * naming the clause. Thrown inside the planner's recursion and returned from it as data.
 */
import { Codes } from '../errors/index.js';

/** a planning refusal travelling up the recursion (caught in planComposite) */
export class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function refuse(message: string, code: string = Codes.FederationNotSupported): never {
  throw new Refused(code, message);
}
