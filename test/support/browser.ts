import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import type { TestApp } from './app.ts';

/**
 * The end-to-end tests' browser: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), the launch flags that work on the CI machine, and what every test page watches (CSP
 * violations, uncaught errors, console errors, dialogs).
 */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Chromium, or a clear refusal saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the end-to-end tests need it. Install it with: apt-get update && apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** The test app listening on a free loopback port; its base URL. */
export async function listenForBrowser(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

export interface PageWatch {
  cspViolations: string[];
  pageErrors: string[];
  /** Console messages of type error (the browser's own "Failed to load resource" lines included). */
  consoleErrors: string[];
  /** "confirm: Take over ticket #12?" for each dialog, answered as `onDialog` says. */
  dialogs: string[];
}

/** What a page reports while a test drives it; dialogs are accepted or dismissed. */
export function watchPage(page: Page, onDialog: 'accept' | 'dismiss'): PageWatch {
  const watch: PageWatch = { cspViolations: [], pageErrors: [], consoleErrors: [], dialogs: [] };
  page.on('console', (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text())) watch.cspViolations.push(message.text());
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (err) => watch.pageErrors.push(err.message));
  page.on('dialog', async (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await (onDialog === 'accept' ? dialog.accept() : dialog.dismiss());
  });
  return watch;
}

/** The login form filled in on the page it redirected to; waits until the browser is back at `landing`. */
export async function logInThroughForm(page: Page, user: { email: string; password: string }, landing: string): Promise<void> {
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => url.pathname === landing);
}
