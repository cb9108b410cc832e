import { MinoError } from '../common/errors.js';

/**
 * The errors every ContainerRuntime throws, whatever the engine: the layers above catch these
 * classes and never look at an engine's own error text. Each implementation maps its failures
 * (exit codes, error output) to them and writes the message the user sees.
 */

/** What an implementation knows about one failure of its engine. */
export interface EngineFailure {
  /** The engine client's exit code (podman: 125 for its own failures). */
  engineExitCode: number;
  /** The engine's error output (for a build, the last lines of its output). */
  stderr: string;
  /** What to do next, printed as `Hint:`. */
  hint?: string;
  /**
   * What the implementation recognised in the output and what to do about it, undefined when it
   * recognised nothing (then `hint` is a generic one).
   */
  diagnosis?: string;
  cause?: unknown;
}

/** A command of the engine failed; the subclasses say why when the engine told. */
export class EngineError extends MinoError {
  /** The engine client's exit code (not mino's: that is `exitCode`). */
  readonly engineExitCode: number;
  /** The engine's error output. */
  readonly stderr: string;
  /** See {@link EngineFailure.diagnosis}. */
  readonly diagnosis: string | undefined;

  constructor(message: string, failure: EngineFailure) {
    super(message, { hint: failure.hint, cause: failure.cause });
    this.name = 'EngineError';
    this.engineExitCode = failure.engineExitCode;
    this.stderr = failure.stderr;
    this.diagnosis = failure.diagnosis;
  }
}

/** The container, image, volume or secret does not exist. */
export class NotFoundError extends EngineError {
  constructor(message: string, failure: EngineFailure) {
    super(message, failure);
    this.name = 'NotFoundError';
  }
}

/** The object is used by containers (running or not), so the engine refused to remove it. */
export class InUseError extends EngineError {
  /** Short IDs of the containers using it, when the engine named them. */
  readonly containerIds: string[];

  constructor(message: string, failure: EngineFailure & { containerIds: string[] }) {
    super(message, failure);
    this.name = 'InUseError';
    this.containerIds = failure.containerIds;
  }
}

/** The name is taken or the object already exists. */
export class ConflictError extends EngineError {
  constructor(message: string, failure: EngineFailure) {
    super(message, failure);
    this.name = 'ConflictError';
  }
}

/** The engine did not answer (its service or machine is not reachable). */
export class EngineUnreachableError extends EngineError {
  constructor(message: string, failure: EngineFailure) {
    super(message, failure);
    this.name = 'EngineUnreachableError';
  }
}

/** The engine cannot do this on this host (e.g. pause a rootless container on cgroup v1). */
export class NotSupportedError extends EngineError {
  constructor(message: string, failure: EngineFailure) {
    super(message, failure);
    this.name = 'NotSupportedError';
  }
}

/**
 * The engine's bookkeeping outlived its processes (a machine restarted without clearing its
 * runtime directory) and it refuses every command; ContainerRuntime.systemMigrate repairs it.
 */
export class StaleEngineStateError extends EngineError {
  constructor(message: string, failure: EngineFailure) {
    super(message, failure);
    this.name = 'StaleEngineStateError';
  }
}
