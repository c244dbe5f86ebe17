// Runs work once an element comes within 300 px of the viewport (comment strips, link previews),
// so a long feed asks the server only for what the reader is about to see.
const waiting = new WeakMap();
const observer = new IntersectionObserver((entries) => {
  for (const {isIntersecting, target} of entries) {
    if (!isIntersecting) continue;
    observer.unobserve(target);
    waiting.get(target)?.();
    waiting.delete(target);
  }
}, {rootMargin: '300px'});

export function whenNear(el, run) {
  waiting.set(el, run);
  observer.observe(el);
}
