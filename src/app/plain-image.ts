import { MinoError } from '../common/errors.js';
import { parseImageUser, type ImageIdentity } from '../launch/userns.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { isMinoImage } from '../volume/home-volume.js';

/**
 * A run of an image mino did not build (`--image`, `MINO_IMAGE`, config `image`): one `podman
 * image inspect` before anything is created tells whether the image exists (a missing one is one
 * clear error, with no session record and no container) and which user it runs as, so the user
 * namespace maps that user onto the host user (rootless) or the project owner (rootful).
 * mino images (mino-base, composed images) run as `developer` (uid 1000): no call.
 */
export async function plainImageIdentity(runtime: ContainerRuntime, image: string): Promise<ImageIdentity | undefined> {
  if (isMinoImage(image)) return { uid: 1000, gid: 1000 };
  const facts = await runtime.imageInspect(image);
  if (!facts) {
    throw new MinoError(`Image ${image} is not available locally`, {
      hint: `Build or pull it first (podman pull ${image}), or pass another --image`,
    });
  }
  return parseImageUser(facts.user);
}
