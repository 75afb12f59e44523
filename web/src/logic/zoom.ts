// Scale of the seat map. At the default zoom a seat is at least MIN_TARGET_PX on screen (a touch
// target a thumb can hit), even when that makes the map wider than the phone: it pans then.
// Zooming out may go down to the whole map in view; zooming in up to MAX_ZOOM times the default.

export const MIN_TARGET_PX = 24;
export const MAX_ZOOM = 4;
export const ZOOM_STEP = 1.5;
/** A small hall fitted to a desktop's width would get fist-sized seats: at most this scale. */
export const MAX_FIT = 1.5;

/** Pixels per map unit at zoom 1: fit to the box (up to MAX_FIT), never seats below MIN_TARGET_PX. */
export function baseScale(boxWidth: number, mapWidth: number, seatUnits: number): number {
  const fit = boxWidth > 0 && mapWidth > 0 ? boxWidth / mapWidth : 1;
  return Math.max(Math.min(fit, MAX_FIT), MIN_TARGET_PX / seatUnits);
}

/** The smallest zoom: the whole map's width in the box (never above 1). */
export function minZoom(boxWidth: number, mapWidth: number, seatUnits: number): number {
  const fit = boxWidth > 0 && mapWidth > 0 ? boxWidth / mapWidth : 1;
  return Math.min(1, fit / baseScale(boxWidth, mapWidth, seatUnits));
}

export function clampZoom(z: number, min: number): number {
  return Math.min(MAX_ZOOM, Math.max(min, z));
}

/** Scroll offset that keeps the map point under `at` (box pixels) in place across a zoom. */
export function anchoredScroll(scroll: number, at: number, from: number, to: number): number {
  return Math.max(0, ((scroll + at) * to) / from - at);
}
