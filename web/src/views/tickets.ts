// Per-ticket pieces shared by the confirmation and "my orders": the status badge and the e-ticket
// download. The PDF route needs the session header, so the link fetches the file and hands the
// browser a blob to save (a plain href cannot carry Authorization).
import { ApiError, type Ticket } from '../api';
import { h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { session } from '../state';

export function ticketStatus(tk: Ticket): HTMLElement {
  const st = tk.status ?? 'valid';
  const text = st === 'checked_in'
    ? t('ticket.status.checked_in', { time: tk.checked_in_at ? formatDate(tk.checked_in_at) : '' })
    : t(`ticket.status.${st}` as Key);
  return h('span', { class: `badge tk-${st}`, 'data-testid': 'ticket-status', 'data-status': st }, text);
}

export async function downloadPdf(ticketId: string): Promise<void> {
  const s = session();
  const res = await fetch(`/v1/tickets/${encodeURIComponent(ticketId)}/pdf`, {
    headers: s ? { Authorization: `Bearer ${s.token}` } : {}, credentials: 'same-origin',
  });
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, res.statusText);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `ticket-${ticketId}.pdf`, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A button (keyboard and screen-reader friendly) that saves ticket `n`'s PDF. */
export function pdfButton(tk: Ticket, n: number): HTMLElement {
  const out = h('span', { 'aria-live': 'polite' });
  const btn = h('button', {
    type: 'button', class: 'button secondary', 'data-testid': 'ticket-pdf', 'data-ticket': tk.id,
    'aria-label': t('ticket.pdf.label', { n }),
  }, t('ticket.pdf'));
  btn.addEventListener('click', () => {
    btn.disabled = true;
    out.replaceChildren();
    downloadPdf(tk.id)
      .catch(() => out.replaceChildren(message('error', t('ticket.pdf.failed'))))
      .finally(() => { btn.disabled = false; });
  });
  return h('span', { class: 'ticket-actions' }, btn, out);
}
