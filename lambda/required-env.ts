/** Reads an environment variable the stack always sets; a missing one is a deployment error worth failing loudly on. */
export function requiredEnv(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is not set; redeploy the stack, which sets it`);
  }
  return value;
}
