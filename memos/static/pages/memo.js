// A memo's own page (/memos/:uid): the full card; unknown or hidden memos show the 404 page.
import * as api from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {navigate} from '../core/router.js';
import {toastError} from '../core/ui.js';
import {memoCard} from '../components/memo-card.js';
import {memoHtml} from '../components/memo-list.js';

const HIDDEN = new Set(['not_found', 'permission_denied', 'unauthenticated']);

export default {
  async render({params, main}) {
    let memo;
    try {
      memo = await api.call('MemoService', 'GetMemo', {name: `memos/${params.uid}`});
    } catch (error) {
      if (HIDDEN.has(error.code)) return void navigate('/404', {replace: true});
      toastError(error);
      return undefined;
    }
    const html = await memoHtml([memo]);
    const show = (current, rendered) => memoCard(current, {
      html: rendered, showAuthor: true, archived: current.state === 'ARCHIVED',
      onChanged: async (updated, mask) => {
        if (mask === 'state') return void navigate(updated.state === 'ARCHIVED' ? '/archived' : '/');
        const fresh = await memoHtml([updated]);
        main.querySelector('.memo-card, .editor')?.replaceWith(show(updated, fresh[updated.name]));
      },
      onRemoved: () => navigate('/'),
    });
    main.append(h('div', {class: 'detail'}, show(memo, html[memo.name] ?? '')));
    document.title = `${memo.snippet?.slice(0, 60) || t('nav.memo')}`;
    return undefined;
  },
};
