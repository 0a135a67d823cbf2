// The portal's only script (CSP script-src 'self'; no inline script): shows every <time datetime> in the browser's time
// zone, with its offset, so nobody has to convert a date. Without script the server's rendering (with its offset) stays.
function pad(n) { return String(n).padStart(2, '0'); }

function local(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())} UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

for (const element of document.querySelectorAll('time[datetime]')) {
  const date = new Date(element.getAttribute('datetime'));
  if (!Number.isNaN(date.getTime())) {
    element.textContent = local(date);
  }
}

// A page that follows something still running (a job) asks to be read again: data-refresh="seconds".
const refresh = document.querySelector('[data-refresh]');
if (refresh) {
  setTimeout(() => location.reload(), Number(refresh.dataset.refresh) * 1000);
}
