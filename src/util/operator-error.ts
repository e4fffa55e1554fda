// Errors whose message is written for the operator: the CLI prints them as one line and exits 1,
// like a bad argument, instead of reporting an internal error.
export class OperatorError extends Error {
  override name = 'OperatorError';
}
