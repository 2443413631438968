// keyledger dashboard: a thin page over the read API. It never receives key material: the
// routes it calls answer identifiers, states, dates, findings and audit entries only.
(() => {
  'use strict';
  const $ = (selector) => document.querySelector(selector);
  const state = { token: sessionStorage.getItem('keyledger.token'), inventoryCursor: null, auditCursor: null, charts: {} };

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  async function api(path, accept = 'application/json') {
    const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept } });
    if (!res.ok) {
      let problem = null;
      try { problem = await res.json(); } catch { /* not JSON */ }
      throw new ApiError(res.status, problem);
    }
    return accept === 'application/json' ? res.json() : res.text();
  }

  const text = (value) => (value === null || value === undefined || value === '' ? '—' : String(value));
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(text(child)));
    return node;
  };
  const isoFromLocal = (value) => (value ? new Date(value).toISOString() : '');
  const query = (form) => {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (!v) continue;
      params.set(k, ['at', 'from', 'to'].includes(k) ? isoFromLocal(v) : v);
    }
    return params;
  };
  const currentVersion = (key) => key.versions.find((v) => v.version === key.currentVersion) || key.versions[key.versions.length - 1];
  const stateBadge = (s) => el('span', { class: `state state-${s}` }, s);

  // ---- sign in ---------------------------------------------------------------------------
  async function signIn(token) {
    state.token = token;
    try {
      await api('/v1/keys?limit=1');
    } catch (error) {
      state.token = null;
      sessionStorage.removeItem('keyledger.token');
      const message = error.status === 401 ? 'That token was not accepted (401). Check it and try again.'
        : error.status === 403 ? 'That token may not read the inventory (403): use an auditor or administrator token.'
        : `Sign-in failed: ${error.message}`;
      $('#sign-in-error').textContent = message;
      $('#sign-in-error').hidden = false;
      return;
    }
    sessionStorage.setItem('keyledger.token', token);
    $('#sign-in').hidden = true;
    $('#sign-in-error').hidden = true;
    $('#tabs').hidden = false;
    $('#sign-out').hidden = false;
    show('inventory');
  }

  $('#sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('#token').value.trim());
  });
  $('#sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('keyledger.token');
    location.reload();
  });

  // ---- views -----------------------------------------------------------------------------
  const loaders = { inventory: loadInventory, compliance: loadCompliance, audit: loadAudit, charts: loadCharts, verify: () => {} };
  function show(view) {
    for (const button of document.querySelectorAll('#tabs button')) button.classList.toggle('active', button.dataset.view === view);
    for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== `view-${view}`;
    loaders[view]().catch(report);
  }
  for (const button of document.querySelectorAll('#tabs button')) button.addEventListener('click', () => show(button.dataset.view));
  function report(error) {
    const banner = el('p', { class: 'error', role: 'alert' }, error.message);
    document.querySelector('.view:not([hidden])')?.prepend(banner);
    setTimeout(() => banner.remove(), 8000);
  }

  // ---- inventory -------------------------------------------------------------------------
  async function loadInventory(append = false) {
    const params = query($('#inventory-filters'));
    params.set('limit', '100');
    if (append && state.inventoryCursor) params.set('cursor', state.inventoryCursor);
    const page = await api(`/v1/keys?${params}`);
    const body = $('#inventory-table tbody');
    if (!append) body.replaceChildren();
    for (const key of page.items) {
      const v = currentVersion(key);
      body.append(el('tr', { 'data-key': key.id, onclick: () => openKey(key.id) },
        el('td', {}, key.label ? `${key.label} (${key.id.slice(0, 8)})` : key.id),
        el('td', {}, key.tenantId), el('td', {}, key.purpose), el('td', {}, stateBadge(v.state)),
        el('td', {}, v.version), el('td', {}, key.classifications.join(', ')), el('td', {}, v.protectUntil)));
    }
    state.inventoryCursor = page.nextCursor;
    $('#inventory-more').hidden = !page.nextCursor;
    const at = params.get('at');
    $('#inventory-caption').textContent = `${body.children.length} keys${at ? ` as of ${at}` : ' now'}`;
  }
  $('#inventory-filters').addEventListener('submit', (e) => { e.preventDefault(); $('#key-detail').hidden = true; loadInventory().catch(report); });
  $('#inventory-now').addEventListener('click', () => { $('#inventory-filters').at.value = ''; loadInventory().catch(report); });
  $('#inventory-more').addEventListener('click', () => loadInventory(true).catch(report));

  async function openKey(id) {
    const at = isoFromLocal($('#inventory-filters').at.value);
    const suffix = at ? `?at=${encodeURIComponent(at)}` : '';
    const [key, history, lineage] = await Promise.all([
      api(`/v1/keys/${encodeURIComponent(id)}${suffix}`),
      api(`/v1/keys/${encodeURIComponent(id)}/history${suffix}`),
      api(`/v1/keys/${encodeURIComponent(id)}/lineage`).catch(() => null),
    ]);
    const detail = $('#key-detail');
    detail.replaceChildren(
      el('h2', {}, `${key.purpose.toUpperCase()} ${key.label || key.id}`),
      el('p', { class: 'caption' }, `tenant ${key.tenantId} · custodian ${key.custodian} · parent ${text(key.parentKeyId)} · revision ${key.revision}`),
      el('h3', {}, 'Versions'),
      el('div', { class: 'table-wrap' }, el('table', { id: 'versions-table' },
        el('thead', {}, el('tr', {}, ['Version', 'State', 'Compromised', 'Activated', 'Protects until', 'Processes until', 'Destruction', 'Destroyed'].map((h) => el('th', {}, h)))),
        el('tbody', {}, key.versions.map((v) => el('tr', {},
          el('td', {}, v.version), el('td', {}, stateBadge(v.state)), el('td', {}, v.compromised ? 'yes' : 'no'),
          el('td', {}, v.activatedAt), el('td', {}, v.protectUntil), el('td', {}, v.processUntil),
          el('td', {}, v.destructionScheduledFor), el('td', {}, v.destroyedAt)))))),
      el('h3', {}, 'Lineage'),
      el('p', { id: 'lineage' }, lineage ? describeLineage(lineage) : 'not available'),
      el('h3', {}, 'Timeline'),
      el('ol', { class: 'timeline', id: 'timeline' }, history.events.map((e) =>
        el('li', { 'data-position': e.position }, `#${e.position} ${e.recordedAt} — ${e.type} by ${e.actor}`))),
    );
    detail.hidden = false;
    detail.scrollIntoView({ behavior: 'smooth' });
  }

  function describeLineage(lineage) {
    const chain = lineage.chain.map((n) => (n.level === 'tenant' ? `tenant ${n.tenantId}` : `${n.level.toUpperCase()} ${n.visible ? n.id : '(another tenant)'}`));
    const classes = lineage.dataClasses && lineage.dataClasses.length ? ` · data classes: ${lineage.dataClasses.join(', ')}` : '';
    return chain.join(' → ') + classes;
  }

  // ---- compliance ------------------------------------------------------------------------
  async function loadCompliance() {
    const report = await api('/v1/compliance');
    const overall = report.summary.overall;
    const tiles = $('#compliance-summary');
    tiles.replaceChildren(
      el('div', { class: 'tile', 'data-tenant': '*' }, el('b', {}, overall.findings), 'findings in all'),
      ...Object.entries(overall.bySeverity).map(([severity, n]) => el('div', { class: 'tile' }, el('b', {}, n), severity)),
      ...report.summary.tenants.map((t) => el('div', { class: 'tile', 'data-tenant': t.tenantId ?? '' }, el('b', {}, t.findings), `tenant ${t.tenantId ?? '(platform)'}`)),
    );
    const groups = new Map(report.rules.filter((r) => r.findings > 0).map((r) => [r.rule, { rule: r, items: [] }]));
    for (const f of report.findings) groups.get(f.rule)?.items.push(f);
    $('#compliance-findings').replaceChildren(...[...groups.values()].map(({ rule, items }) => el('div', { class: 'card finding-group', 'data-rule': rule.rule },
      el('h3', {}, `${rule.title} — ${rule.findings} (${rule.severity})`),
      el('p', { class: 'ref' }, rule.references.join(' · ')),
      el('ul', {}, items.map((f) => el('li', { class: 'finding' },
        `${f.detail} `,
        f.keyId ? el('a', { href: '#', onclick: (e) => { e.preventDefault(); show('inventory'); openKey(f.keyId).catch(report); } }, `key ${f.keyId}`) : '',
        f.evidence.length ? ` · evidence: events ${evidenceOf(f)}` : ''))))));
    if (groups.size === 0) $('#compliance-findings').append(el('p', { class: 'caption' }, 'No findings: every rule ran clean.'));
  }
  const evidenceOf = (f) => [].concat(f.evidence || []).map((e) => (typeof e === 'object' ? e.position ?? e.eventId : e)).join(', ');

  // ---- audit -----------------------------------------------------------------------------
  async function loadAudit(append = false) {
    const params = query($('#audit-filters'));
    params.set('limit', '100');
    if (append && state.auditCursor) params.set('cursor', state.auditCursor);
    const page = await api(`/v1/audit/events?${params}`);
    const body = $('#audit-table tbody');
    if (!append) body.replaceChildren();
    for (const a of page.items) {
      body.append(el('tr', { class: `outcome-${a.outcome}` }, el('td', {}, a.position), el('td', {}, a.recordedAt), el('td', {}, a.actor),
        el('td', {}, a.tenantId), el('td', {}, a.keyId), el('td', {}, a.version), el('td', {}, a.operation), el('td', {}, a.outcome)));
    }
    state.auditCursor = page.nextCursor;
    $('#audit-more').hidden = !page.nextCursor;
  }
  $('#audit-filters').addEventListener('submit', (e) => { e.preventDefault(); loadAudit().catch(report); });
  $('#audit-more').addEventListener('click', () => loadAudit(true).catch(report));
  for (const button of document.querySelectorAll('[data-export]')) {
    button.addEventListener('click', async () => {
      const format = button.dataset.export;
      const params = query($('#audit-filters'));
      params.set('format', format);
      params.set('limit', '1000');
      try {
        const body = await api(`/v1/audit/events?${params}`, format === 'csv' ? 'text/csv' : 'application/x-ndjson');
        const link = el('a', { href: URL.createObjectURL(new Blob([body], { type: 'text/plain' })), download: `keyledger-audit.${format === 'csv' ? 'csv' : 'jsonl'}` });
        link.click();
      } catch (error) { report(error); }
    });
  }

  // ---- charts ----------------------------------------------------------------------------
  async function allPages(path, maxPages = 20) {
    const items = [];
    let cursor = null;
    for (let i = 0; i < maxPages; i++) {
      const page = await api(`${path}${path.includes('?') ? '&' : '?'}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  function draw(id, config) {
    state.charts[id]?.destroy();
    state.charts[id] = new Chart(document.getElementById(id), { ...config, options: { responsive: true, animation: false, ...(config.options || {}) } });
  }

  async function loadCharts() {
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const [keys, audit] = await Promise.all([allPages('/v1/keys'), allPages(`/v1/audit/events?from=${encodeURIComponent(since)}`).catch(() => [])]);
    const states = {};
    for (const key of keys) states[currentVersion(key).state] = (states[currentVersion(key).state] || 0) + 1;
    draw('chart-states', { type: 'doughnut', data: { labels: Object.keys(states), datasets: [{ data: Object.values(states) }] } });

    const week = 7 * 86_400_000;
    const now = Date.now();
    const due = Array(26).fill(0);
    for (const key of keys) {
      const v = currentVersion(key);
      if (v.state !== 'active' || !v.protectUntil) continue;
      const slot = Math.floor((Date.parse(v.protectUntil) - now) / week);
      if (slot >= 0 && slot < 26) due[slot] += 1;
    }
    draw('chart-rotations', { type: 'bar', data: { labels: due.map((_, i) => `+${i + 1}w`), datasets: [{ label: 'rotations due', data: due }] } });

    const days = [...Array(30)].map((_, i) => new Date(now - (29 - i) * 86_400_000).toISOString().slice(0, 10));
    const count = (predicate) => days.map((d) => audit.filter((a) => a.recordedAt.startsWith(d) && predicate(a)).length);
    const uses = new Set(['generate-data-key', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'rewrap', 'distribute']);
    draw('chart-uses', { type: 'line', data: { labels: days, datasets: [{ label: 'uses', data: count((a) => uses.has(a.operation) && a.outcome === 'success') }] } });
    draw('chart-denials', { type: 'line', data: { labels: days, datasets: [{ label: 'denials', data: count((a) => a.outcome === 'denied') }] } });
  }

  // ---- integrity -------------------------------------------------------------------------
  $('#verify-run').addEventListener('click', async () => {
    $('#verify-result').textContent = 'Verifying…';
    try {
      $('#verify-result').textContent = JSON.stringify(await api('/v1/audit/verify'), null, 2);
    } catch (error) {
      $('#verify-result').textContent = `Verification failed: ${error.message}`;
    }
  });

  if (state.token) signIn(state.token);
})();
