/** The `code` of the error `fn` throws, or undefined when it returns (for checking typed errors in one line). */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}
