/** Outcome of one host check. `fixed` = was broken, mino repaired it. */
export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail' | 'fixed';

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

  /** True when no check failed. */
  get ok(): boolean {
    return !this.results.some((r) => r.status === 'fail');
  }
}
