// The AWS SDK tells every process on a Node older than the one its future releases will need
// (Node 20 today) that it should upgrade: a process.emitWarning that Node prints on stderr, once
// the first client is built. The notice is addressed to mailvault's developers, who choose the
// SDK's version; an administrator running a backup would only see noise in their output and cron
// mail (the README says which Node versions mailvault supports). The SDK's own switch is the
// environment variable AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, read while a client is
// built: after that first look the SDK counts the notice as given for the whole process, so later
// clients (those a credential provider builds included) stay quiet too.

/**
 * Runs `build` (a synchronous SDK client constructor) with the SDK's Node version notice turned
 * off, then puts the environment back as it was, so that the commands and hooks mailvault starts
 * inherit none of this. Every other warning, Node's own and other libraries', is printed as usual.
 */
export function withoutNodeVersionNotice<T>(build: () => T): T {
  const env = process.env;
  const before = env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  try {
    return build();
  } finally {
    if (before === undefined) delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = before;
  }
}
