import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, startServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** The configuration the README shows, as a new user would copy it. */
const README_CONFIG = {
  sources: [
    {
      name: 'github',
      scheme: 'github',
      secretEnv: 'GITHUB_WEBHOOK_SECRET',
      allowedIps: ['192.30.252.0/22', '185.199.108.0/22', '140.82.112.0/20', '143.55.64.0/20'],
    },
    { name: 'stripe', scheme: 'stripe', secretEnv: 'STRIPE_WEBHOOK_SECRET', maxAgeSeconds: 300 },
    {
      name: 'billing',
      scheme: 'hmac',
      secretEnv: 'BILLING_SECRET',
      hmac: {
        header: 'x-signature',
        prefix: 'sha256=',
        encoding: 'hex',
        timestampHeader: 'x-timestamp',
        idHeader: 'x-delivery-id',
        template: '{id}.{timestamp}.{body}',
      },
    },
  ],
  corsOrigins: ['https://app.example.com'],
  trustedProxies: [],
};

/** Runs the banner's curl command with fetch (same URL, headers and body). */
const runCurl = (banner: string): Promise<Response> => {
  const line = /^ {2}curl -i -X POST (\S+) (.*)$/m.exec(banner);
  if (!line) throw new Error(`no curl line in:\n${banner}`);
  const headers = [...(line[2] as string).matchAll(/-H '([^']*)'/g)].map(
    (m) => (m[1] as string).split(/: (.*)/s).slice(0, 2) as [string, string],
  );
  const body = /--data '([^']*)'$/.exec(line[2] as string)?.[1];
  return fetch(line[1] as string, { method: 'POST', headers, body });
};

describe('the npm start banner', () => {
  it("with the README's example configuration: shows each allowlist, warns that github refuses this machine, and its curl works", async () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify(README_CONFIG));
    const server = await startServer({ HOOKWARDEN_DATA_DIR: emptyDir(), STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripe }, cwd);
    try {
      const banner = server.output();
      expect(banner).toMatch(/^ +allowed IPs: 192\.30\.252\.0\/22, 185\.199\.108\.0\/22, 140\.82\.112\.0\/20, 143\.55\.64\.0\/20$/m);
      expect(banner).toMatch(/^ +allowed IPs: any$/m);
      expect(banner).toContain(
        'Warning: "github" allows only 192.30.252.0/22, 185.199.108.0/22, 140.82.112.0/20, 143.55.64.0/20: a request from this machine (127.0.0.1) gets 403 ip_denied.',
      );
      expect(banner).not.toMatch(/Warning: "(stripe|billing)"/);
      expect(banner).toContain('Try it (signed now; a signed timestamp stays valid for 300 s):');
      const res = await runCurl(banner);
      expect(res.status).toBe(202);
    } finally {
      server.process.kill('SIGKILL');
    }
  });

  it('says a timestamp stays valid only for schemes that sign one', async () => {
    const server = await startServer(
      { HOOKWARDEN_DATA_DIR: emptyDir(), WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github },
      emptyDir(),
    );
    try {
      const banner = server.output();
      expect(banner).not.toContain('timestamp stays valid');
      expect(banner).toContain('Try it (github signs no timestamp: this request stays valid, and a second copy is a duplicate):');
      expect((await runCurl(banner)).status).toBe(202);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});

describe("the npm start banner's command-line hints work from another shell", () => {
  it('name a data directory other than ./.hookwarden and the secret variable, and the printed send is accepted', async () => {
    const dataDir = emptyDir();
    const cwd = emptyDir();
    const server = await startServer({ HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, cwd);
    try {
      const banner = server.output();
      expect(banner).toContain(
        `Or sign at send time (any time; in a shell with WEBHOOK_SECRET exported):\n  HOOKWARDEN_DATA_DIR='${dataDir}' npx hookwarden send default\n`,
      );
      expect(banner).toContain(`Stored deliveries: HOOKWARDEN_DATA_DIR='${dataDir}' npx hookwarden deliveries\n`);
      // Another shell: only what the hint names, in the same working directory.
      const sent = await cli(['send', 'default'], { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, cwd);
      expect(sent.stdout).toMatch(/^HTTP 202 Accepted\n/);
    } finally {
      server.process.kill('SIGKILL');
    }
  });

  it('stay plain with the default data directory and a generated secret', async () => {
    const cwd = emptyDir();
    const server = await startServer({}, cwd);
    try {
      const banner = server.output();
      expect(banner).toContain('Or sign at send time (any time):\n  npx hookwarden send default\n');
      expect(banner).toContain('Stored deliveries: npx hookwarden deliveries\n');
      expect((await cli(['send', 'default'], {}, cwd)).stdout).toMatch(/^HTTP 202 Accepted\n/);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});

describe('the npm start banner states the replay window', () => {
  it('for a scheme that signs no timestamp, and not for one that does', async () => {
    const cwd = emptyDir();
    const config = {
      sources: [
        { name: 'gh', scheme: 'github', secretEnv: 'GH_SECRET', retentionSeconds: 30 * 86_400 },
        { name: 'sw', scheme: 'standard-webhooks', secretEnv: 'SW_SECRET' },
      ],
    };
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify(config));
    const server = await startServer(
      { HOOKWARDEN_DATA_DIR: emptyDir(), GH_SECRET: TEST_SECRETS.github, SW_SECRET: TEST_SECRETS.standardWebhooks },
      cwd,
    );
    try {
      const banner = server.output();
      expect(banner).toMatch(
        /^ +replay window: github signs no timestamp, so a captured delivery is refused as a duplicate for 30 d \(retentionSeconds\), and accepted again after that until the key is rotated$/m,
      );
      expect(banner.match(/replay window:/g)).toHaveLength(1);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});

describe('the npm start banner names accepted risks', () => {
  it('lists every risk the configuration accepts', async () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({
        sources: [{ name: 'gh', scheme: 'github', secretEnv: 'GH_SECRET', allowedIps: ['0.0.0.0/0'] }],
        acceptRisks: ['allow-any-ip'],
      }),
    );
    const server = await startServer({ HOOKWARDEN_DATA_DIR: emptyDir(), GH_SECRET: TEST_SECRETS.github }, cwd);
    try {
      expect(server.output()).toMatch(/^Accepted risks \(acceptRisks \/ HOOKWARDEN_ACCEPT_RISKS\): allow-any-ip$/m);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});
