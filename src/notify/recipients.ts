import addressparser from 'nodemailer/lib/addressparser';

/** The bare address of "Name <a@b>" or "a@b", for comparing; undefined when there is none. */
export function bareAddress(entry: string): string | undefined {
  const [first] = addressparser(entry, { flatten: true });
  return first?.address || undefined;
}

/**
 * Who receives a notice: the initiator first, then the admins, each once. Addresses compare
 * without case: the same person typed as Alice@Example.com and alice@example.com would
 * otherwise get every notice twice.
 */
export function noticeRecipients(
  initiator: string | undefined,
  admins: readonly string[],
): string[] {
  const seen = new Set<string>();
  const recipients: string[] = [];
  for (const entry of [initiator, ...admins]) {
    const trimmed = entry?.trim();
    if (!trimmed) continue;
    const key = (bareAddress(trimmed) ?? trimmed).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    recipients.push(trimmed);
  }
  return recipients;
}
