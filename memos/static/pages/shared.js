// A shared memo (/memos/shares/:token), open to anyone holding the link, also on a private
// instance: the read-only card with author and sidebar, files fetched with the share token,
// no comments. A token that opens nothing shows the 404 page.
import {call} from '../core/api.js';
import {clear, h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {navigate} from '../core/router.js';
import {toastError} from '../core/ui.js';
import {memoCard} from '../components/memo-card.js';
import {memoSidebar} from './memo.js';
import {authorOf} from '../core/users.js';

export default {
  explorer: () => true,

  async render({params, main, aside}) {
    const shareToken = params.token;
    let memo;
    let rendered;
    try {
      [memo, rendered] = await Promise.all([
        call('MemoService', 'GetSharedMemo', {shareToken}),
        call('MemoHtmlService', 'GetSharedMemoHtml', {shareToken}),
      ]);
    } catch (error) {
      if (error.code === 'not_found') return void navigate('/404', {replace: true});
      toastError(error);
      return;
    }
    // Null for a guest of a private instance, who may not look users up: the username is shown instead.
    const author = await authorOf(memo);
    main.append(h('div.detail.shared',
      h('p.muted.small.shared-note', t('share.viewing')),
      memoCard(memo, {html: rendered.html, showAuthor: true, readOnly: true, shareToken, author})));
    if (aside) {
      aside.setAttribute('aria-label', t('detail.sidebar'));
      clear(aside).append(memoSidebar(memo, {author, shareToken}));
    }
    document.title = memo.snippet?.slice(0, 60) || t('nav.shared');
  },
};
