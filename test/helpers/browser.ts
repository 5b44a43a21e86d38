import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Headless Debian Chromium (`/usr/bin/chromium`, which `.ci/run` installs), driven by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface Site {
  /** `http://localhost:<port>`: another origin than a server the tests reach as 127.0.0.1. */
  url: string;
  close(): Promise<void>;
}

/** A web site on a free loopback port, for pages that call a server from another origin. */
export async function startSite(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Site> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
