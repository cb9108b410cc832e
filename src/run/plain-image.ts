import { MinoError } from '../common/errors.js';
import { formatBytes } from '../common/text.js';
import { parseImageUser, type ImageIdentity } from '../launch/userns.js';
import type { ContainerRuntime, ImageFacts } from '../runtime/container-runtime.js';
import { isMinoImage } from '../image/mino-image.js';
import { rememberedEngineImageUser, rememberEngineImageUser } from './engine-image-memo.js';
import { rememberedImageUser, rememberedStoreIndex, rememberImageUser } from './image-user-memo.js';

/**
 * A run of an image mino did not build (`--image`, `MINO_IMAGE`, config `image`): one `podman
 * image inspect` before anything is created tells whether the image exists (a missing one is one
 * clear error, with no session record and no container) and which user it runs as, so the user
 * namespace maps that user onto the host user (rootless) or the project owner (rootful).
 * mino images (mino-base, composed images) run as `developer` (uid 1000): no call. What this
 * machine's engine answered is remembered by image ID (image-user-memo.ts), a remote engine's for
 * a few minutes (engine-image-memo.ts).
 *
 * When mino keeps its images in a store of its own (a rootless user on vfs, src/runtime/own-store.ts),
 * the images the user built or pulled are in their own podman store: one found there is copied
 * into mino's store on first use (progress on stderr), and again when the user's differs from
 * mino's copy (rebuilt); later runs use the copy.
 */

/** The user's own podman store, when `runtime` is on mino's store: where else to look for an image. */
export interface UserStore {
  /** The same engine on its default store (the user's). */
  runtime: ContainerRuntime;
  /** Progress for the user (stderr). */
  say: (message: string) => void;
  /** Plan only (`--dry-run`): say that a real run copies the image, copy nothing. */
  dryRun?: boolean;
}

/** The identity of a plain image, copying it from the user's store first when it is only there. */
export async function plainImageIdentity(
  runtime: ContainerRuntime,
  image: string,
  userStore?: UserStore,
  stateDir?: string,
  remote?: { stateDir: string; engine: string },
): Promise<ImageIdentity | undefined> {
  if (isMinoImage(image)) return { uid: 1000, gid: 1000 };
  // A remote engine: its answer of a few minutes ago (engine-image-memo.ts), else one inspect there.
  if (remote !== undefined) {
    const known = rememberedEngineImageUser(remote.stateDir, remote.engine, image);
    if (known !== undefined) return parseImageUser(known);
    const facts = await runtime.imageInspect(image);
    if (!facts) throw missingImageError(runtime, image);
    rememberEngineImageUser(remote.stateDir, remote.engine, image, facts.user);
    return parseImageUser(facts.user);
  }
  // One store (no copy from the user's to consider): the user remembered for the image ID the
  // reference names now (image-user-memo.ts), else one inspect (and where the index is, alongside).
  if (stateDir !== undefined && !(runtime.store && userStore)) {
    const known = rememberedImageUser(stateDir, image);
    if (known !== undefined) return parseImageUser(known);
    const learnt = rememberedStoreIndex(stateDir);
    const [facts, index] = await Promise.all([
      runtime.imageInspect(image),
      learnt ?? runtime.imageStoreIndexPath().catch(() => undefined),
    ]);
    if (!facts) throw missingImageError(runtime, image);
    if (index !== undefined) rememberImageUser(stateDir, image, { id: facts.id, user: facts.user, index });
    return parseImageUser(facts.user);
  }
  const ours = await runtime.imageInspect(image);
  const facts = runtime.store && userStore ? await syncFromUserStore(runtime, image, userStore, ours) : ours;
  if (!facts) throw missingImageError(runtime, image);
  return parseImageUser(facts.user);
}

/**
 * With mino's own store: the user's image of that name (one more `image inspect`, in their
 * store), copied into mino's store when mino has none or another one (the user rebuilt it);
 * the copy replaced is removed when no container uses it. Without one there, mino's own copy.
 */
async function syncFromUserStore(
  runtime: ContainerRuntime,
  image: string,
  userStore: UserStore,
  ours: ImageFacts | undefined,
): Promise<ImageFacts | undefined> {
  const theirs = await userStore.runtime.imageInspect(image);
  if (!theirs || (ours && ours.id === theirs.id)) return ours;
  const into = `mino's own store ${runtime.store?.graphRoot ?? ''}`;
  if (userStore.dryRun) {
    userStore.say(`Note: ${image} is in your podman store; a real run copies it into ${into} first`);
    return theirs;
  }
  userStore.say(
    ours
      ? `Your podman store has another ${image} than mino's copy: copying it (${formatBytes(theirs.sizeBytes)}) into ${into}...`
      : `Copying ${image} (${formatBytes(theirs.sizeBytes)}) from your podman store into ${into} (once; later runs use the copy)...`,
  );
  const started = Date.now();
  await runtime.copyImageFromDefaultStore(image);
  userStore.say(`Copied ${image} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // The replaced copy lost its name; a container of a running session may still use it.
  if (ours) await runtime.imageRemove(ours.id).catch(() => undefined);
  return (await runtime.imageInspect(image)) ?? theirs;
}

/**
 * The error for an image that is in no store mino looks in. With mino's own store, the hint
 * says where `podman pull`/`podman build` put an image (the user's store) and that mino copies
 * it from there.
 */
export function missingImageError(runtime: ContainerRuntime, image: string): MinoError {
  const hint = runtime.store
    ? `Build or pull it into your podman store first (podman pull ${image}); mino copies it into its own store (${runtime.store.graphRoot}) on first use. Or pass another --image`
    : `Build or pull it first (podman pull ${image}), or pass another --image`;
  return new MinoError(
    `Image ${image} is not available locally${runtime.store ? " (neither in mino's own store nor in your podman store)" : ''}`,
    { hint },
  );
}
