// Child process of session-store-race.test.ts: loads the real SessionStore (bundled from the
// TypeScript sources by the test), waits for "go", then tries to create every session named in
// the message, reporting which creations it won.
const [bundle, stateDir] = process.argv.slice(2);
const { SessionStore, SessionExistsError, newSessionRecord } = await import(bundle);
const store = new SessionStore(stateDir);

process.on('message', (msg) => {
  const wins = [];
  const errors = [];
  for (const name of msg.names) {
    const record = newSessionRecord({
      name,
      projectDir: '/srv/app',
      command: ['true'],
      containerId: `mino-${name}`,
      status: 'running',
      ownerPid: process.pid,
      mode: 'command',
    });
    try {
      store.create(record);
      wins.push({ name, id: record.id });
    } catch (err) {
      if (!(err instanceof SessionExistsError)) errors.push(`${name}: ${err?.stack ?? err}`);
    }
  }
  process.send({ wins, errors }, () => process.exit(0));
});
process.send({ ready: true });
