// Door staff: check tickets in with a door token (or the operator token). A code comes from the
// camera (BarcodeDetector, where the browser has it), a hand scanner that types it, or a paste.
// After each answer the code field is cleared and focused again, so the next scan can follow.
import { ApiError, call, type CheckedIn } from '../api';
import { field, h, message } from '../dom';
import { formatDate, t } from '../i18n';
import type { ViewCtx } from '../router';
import { describe } from './common';

const TOKEN_KEY = 'tk.door';

interface Detector { detect(src: CanvasImageSource): Promise<{ rawValue: string }[]> }
type DetectorCtor = new (o: { formats: string[] }) => Detector;

export function doorView({ main, signal }: ViewCtx): void {
  main.appendChild(h('h1', {}, t('door.title')));
  const token = h('input', { name: 'door_token', autocomplete: 'off', spellcheck: 'false', required: true,
    value: sessionStorage.getItem(TOKEN_KEY) ?? '', 'data-testid': 'door-token' });
  const code = h('input', { name: 'code', autocomplete: 'off', spellcheck: 'false', required: true,
    maxlength: 2048, 'data-testid': 'door-code' });
  const submit = h('button', { type: 'submit', 'data-testid': 'door-submit' }, t('door.check'));
  const result = h('div', { 'aria-live': 'assertive', 'data-testid': 'door-result' });
  const form = h('form', { class: 'form card' },
    field(t('door.token'), token, t('door.token.help')),
    field(t('door.code'), code, t('door.code.help')),
    submit, result);
  main.appendChild(form);

  const show = (kind: 'success' | 'error' | 'warning', text: string, outcome: string) => {
    const m = message(kind, text, 'door-message');
    m.dataset.outcome = outcome;
    result.replaceChildren(m);
  };

  let busy = false;
  const check = async () => {
    const c = code.value.trim();
    const tok = token.value.trim();
    if (!c || !tok || busy) return;
    busy = true;
    submit.disabled = true;
    sessionStorage.setItem(TOKEN_KEY, tok);
    try {
      const { data } = await call<CheckedIn>('POST', '/v1/admin/checkin', { session: tok, body: { code: c }, signal });
      show('success', t('door.ok', { seat: data.seat_id, time: formatDate(data.checked_in_at) }), 'checked_in');
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') return;
      if (e instanceof ApiError && e.code === 'already_checked_in') {
        const at = String(e.details.checked_in_at ?? '');
        show('warning', t('door.already', { time: at ? formatDate(at) : '' }), 'already_checked_in');
      } else if (e instanceof ApiError && e.status === 422) {
        show('error', t('door.void'), 'void');
      } else if (e instanceof ApiError && e.status === 404) {
        show('error', t('door.unknown'), 'unknown');
      } else if (e instanceof ApiError && e.status === 403) {
        show('error', t('door.forbidden'), 'forbidden');
      } else if (e instanceof ApiError && e.status === 401) {
        show('error', t('door.unauthorized'), 'unauthorized');
        token.focus();
        return;
      } else {
        show('error', describe(e), 'error');
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
    code.value = '';
    code.focus();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); void check(); });

  const Ctor = (globalThis as { BarcodeDetector?: DetectorCtor }).BarcodeDetector;
  if (!Ctor || !navigator.mediaDevices?.getUserMedia) {
    form.appendChild(h('p', { class: 'hint' }, t('door.scan.unsupported')));
  } else {
    const video = h('video', { class: 'door-camera', muted: true, playsinline: true, hidden: true });
    const camBtn = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'door-camera' }, t('door.scan'));
    let stream: MediaStream | null = null;
    const stop = () => {
      stream?.getTracks().forEach((tr) => tr.stop());
      stream = null;
      video.hidden = true;
      camBtn.textContent = t('door.scan');
    };
    signal.addEventListener('abort', stop, { once: true });
    camBtn.addEventListener('click', async () => {
      if (stream) { stop(); return; }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      } catch (e) {
        result.replaceChildren(message('error', describe(e)));
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      camBtn.textContent = t('door.scan.stop');
      await video.play().catch(() => undefined);
      const detector = new Ctor({ formats: ['qr_code'] });
      let last = '';
      const loop = async () => {
        if (!stream || signal.aborted) return;
        try {
          const found = await detector.detect(video);
          const value = found[0]?.rawValue ?? '';
          // The same code held in front of the camera is checked once, not on every frame.
          if (value && value !== last && !busy) {
            last = value;
            code.value = value;
            await check();
          }
        } catch { /* a frame that could not be read: try the next */ }
        setTimeout(() => void loop(), 250);
      };
      void loop();
    });
    form.appendChild(h('p', {}, camBtn));
    form.appendChild(video);
  }
  (token.value ? code : token).focus();
}
