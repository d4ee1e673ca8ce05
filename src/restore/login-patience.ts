/**
 * Opens a connection to an account that was just created by the provisioning hook. A new
 * account can take a moment to be known to the server's login: Dovecot looks at a passwd-file
 * at most once a second, directories replicate, caches expire. So a refused login is tried
 * again, once a second, a few times, before it counts as a failure; any other error is not.
 */
export async function openJustProvisioned<T>(
  open: () => Promise<T>,
  options: { attempts?: number; pauseMs?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'auth' || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 1000));
    }
  }
}
