/**
 * Outcome of one host check. `fixed` = was broken, mino repaired it. `skip` = not run because an
 * earlier check failed (the detail says which and why): never a silent gap.
 */
export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail' | 'fixed' | 'skip';

/** One line of `mino setup` / `mino status` output. */
export interface CheckResult {
  /** Stable identifier, used by `-f json` and tests. */
  id: string;
  title: string;
  status: CheckStatus;
  detail?: string;
  hint?: string;
}

/** Receives each check as soon as it is known (for live output). */
export type CheckReporter = (result: CheckResult) => void;

/** Collects check results and forwards them to a reporter. */
export class CheckLog {
  readonly results: CheckResult[] = [];

  constructor(private readonly reporter: CheckReporter = () => undefined) {}

  /** Records a result. */
  add(result: CheckResult): CheckResult {
    this.results.push(result);
    this.reporter(result);
    return result;
  }

  /** Records that a check did not run because of the failures so far (named in the detail). */
  skip(id: string, title: string, why: string, hint?: string): CheckResult {
    return this.add({
      id,
      title,
      status: 'skip',
      detail: `not checked: ${why} (${this.failedTitles().join(', ')} failed)`,
      ...(hint ? { hint } : {}),
    });
  }

  /** Titles of the checks that failed so far. */
  failedTitles(): string[] {
    return this.results.filter((r) => r.status === 'fail').map((r) => r.title);
  }

  /** True when no check failed. */
  get ok(): boolean {
    return !this.results.some((r) => r.status === 'fail');
  }
}
