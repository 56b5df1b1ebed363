/** Where device-selection messages go. The default prints each distinct message once, to stderr, with a [bitnet] prefix. */
export type DeviceLogger = (message: string) => void;

const printed = new Set<string>();

export const defaultLogger: DeviceLogger = (message) => {
  if (process.env.BITNET_LOG === 'silent' || printed.has(message)) return;
  printed.add(message);
  process.stderr.write(`[bitnet] ${message}\n`);
};

export const silentLogger: DeviceLogger = () => {};
