/** How many recent release ids a listener remembers (a release reaches it once per node). */
const REMEMBERED = 32;

/**
 * Wraps `listener` so one release, announced by every node of a quorum under one id, calls it
 * once. Announcements without an id ('') always pass.
 */
export function oncePerRelease(listener: () => void): (releaseId: string) => void {
  const recent: string[] = [];
  return (releaseId) => {
    if (releaseId !== '') {
      if (recent.includes(releaseId)) return;
      recent.push(releaseId);
      if (recent.length > REMEMBERED) recent.shift();
    }
    listener();
  };
}
