/**
 * True for images mino builds, whose user is `developer` (1000:1000) with its home at
 * /home/developer: the base (`localhost/mino-base:<tag>`) and composed images
 * (`localhost/mino-composed-<hex>`). mino 1.6 matched `ghcr.io/dean0x/mino-base:latest` and
 * `mino-composed-*`.
 */
export function isMinoImage(image: string): boolean {
  return /^(localhost\/)?mino-(base|composed-[0-9a-f]+)(:|@|$)/.test(image);
}
