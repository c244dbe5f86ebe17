// Link preview cards (M18): a top-level paragraph that is exactly one bare URL becomes a card with
// the page's host, title and description, asked from the server (MemoService.GetLinkMetadata) when
// it nears the viewport. Without a title or description, or on failure, the plain link stays.
// The page's image is not shown: the UI loads nothing from other hosts.
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {view} from '../core/view.js';
import {whenNear} from './near.js';

export function linkPreviews(body) {
  if (!view().linkPreview) return;
  for (const paragraph of body.querySelectorAll(':scope > p')) {
    const link = paragraph.querySelector(':scope > a[href]');
    const text = paragraph.textContent.trim();
    if (!link || paragraph.childElementCount !== 1 || ![link.href, link.getAttribute('href')].includes(text)
      || !/^https?:$/.test(link.protocol)) continue;
    whenNear(paragraph, async () => {
      const meta = await call('MemoService', 'GetLinkMetadata', {url: link.getAttribute('href')}).catch(() => null);
      if (!meta?.title && !meta?.description) return;
      paragraph.replaceWith(h('a.link-card', {href: link.href, target: '_blank', rel: 'noopener noreferrer'},
        h('span.muted.small', link.hostname),
        meta.title && h('strong', meta.title),
        meta.description && h('span.link-card-text', meta.description)));
    });
  }
}
