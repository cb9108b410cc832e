import { tmpdir } from 'node:os';

/**
 * vitest setup file: every test worker works from the temporary directory, not the checkout.
 * Programs the tests start inherit the working directory, and rootless podman run as the test
 * user fails outright ("cannot chdir to <dir>: Permission denied") when the checkout lies where that
 * user cannot enter, e.g. under root's 0700 home. Tests address the checkout by absolute paths
 * (REPO_ROOT), so nothing depends on where it is.
 */
process.chdir(tmpdir());
