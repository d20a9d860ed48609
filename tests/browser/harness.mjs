// SPDX-License-Identifier: GPL-3.0-or-later
// What the browser tests of the patient pages share: where the sources, build and server are, a
// real wenzhen-server on a free loopback port (with or without demo data), the demo users' sign-in,
// visit links from the operator's command, and Debian's chromium started headless.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const sourceRoot = process.env.WZ_SOURCE || path.resolve(here, '..', '..');
export const dataFiles = process.env.WZ_DATA_DIR || path.join(sourceRoot, 'data');
export const serverBinary = process.env.WZ_SERVER_BINARY || '';
export const password = process.env.WZ_DEMO_PASSWORD || 'demo';
export const serverEnv = { ...process.env, WZ_DATA_DIR: dataFiles, WZ_PWHASH_FAST: '1' };
export const haveServer = Boolean(serverBinary) && fs.existsSync(serverBinary);

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1280, height: 900 } };

/* $WZ_BUILD, else a fresh temporary folder named after PREFIX. */
export function buildDirFor (prefix) {
  return process.env.WZ_BUILD || fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/* `wenzhen-server serve` on DATADIR at LISTEN (plus ARGS), once it has printed its address:
 * { base, port, dataDir, child }. */
export async function launchServer (dataDir, { listen = '127.0.0.1:0', args = [], env = serverEnv } = {}) {
  const child = spawn(serverBinary, ['serve', '--data-dir', dataDir, '--listen', listen, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wenzhen-server printed no "listening on" line within 20 s: ${out}`));
    }, 20000);
    child.on('exit', (code) => reject(new Error(`wenzhen-server exited early (${code}): ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(m[1]);
      }
    });
  });
  return { base, port: new URL(base).port, dataDir, child };
}

/* A server on a fresh data folder (named after PREFIX) with `wenzhen-server demo-data` in it,
 * unless DEMO is false. The folder goes again if the server does not start. */
export async function startServer (prefix, { demo = true, args = [], env = serverEnv } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  try {
    if (demo)
      execFileSync(serverBinary, ['demo-data', '--data-dir', dataDir], { env, stdio: 'pipe' });
    return await launchServer(dataDir, { args, env });
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/* SIGTERM (unless it has already gone), then its data folder removed. */
export async function stopServer (server) {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    await new Promise((done) => {
      server.child.on('exit', done);
      server.child.kill('SIGTERM');
    });
  }
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

/* POST /auth/login as a demo user: the whole answer (access_token, practitioner, …). */
export async function login (server, username) {
  const res = await fetch(`${server.base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, `login as ${username}`);
  return res.json();
}

/* GET /fhir/PATHANDQUERY with TOKEN, which must answer 200. */
export async function fhirGet (server, token, pathAndQuery, who = 'the test') {
  const res = await fetch(`${server.base}/fhir/${pathAndQuery}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' },
  });
  assert.equal(res.status, 200, `GET ${pathAndQuery} as ${who}`);
  return res.json();
}

/* A fresh link from the operator's command, as the doctor would send it. */
export function visitLink (server, encounterId) {
  const out = execFileSync(serverBinary, ['visit-link', '--data-dir', server.dataDir,
    '--encounter', encounterId, '--base-url', server.base], { env: serverEnv, encoding: 'utf8' });
  const m = out.match(/(http:\/\/\S+\/visit\/#[A-Za-z0-9_-]+)/);
  assert.ok(m, `visit-link printed a link: ${out}`);
  return m[1];
}

/* Debian's chromium (or $WZ_CHROMIUM), headless, with ARGS added to the usual quiet flags. */
export function launchBrowser (args = []) {
  return chromium.launch({
    executablePath: process.env.WZ_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run', ...args],
  });
}
