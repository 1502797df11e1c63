// The rollout page: reads RolloutApi with the key the person types (kept in sessionStorage only, sent as a header, never
// in a URL), follows an agent's live stream with fetch() streaming (EventSource cannot send headers), and acts through the
// same HTTP API as everyone else, with If-Match from what the page showed when the button was pressed.
(function () {
  'use strict';
  const KEY_STORAGE = 'agentaspire.key';
  const SPAN_MS = 5 * 60 * 1000;
  const OPS = {
    'promote': { label: 'Promote', text: 'Skip the current step (end a pause, skip an analysis)?' },
    'promote-full': { label: 'Promote full', text: 'Skip every remaining step and make the canary revision stable?' },
    'pause': { label: 'Pause', text: 'Hold the rollout where it is?' },
    'resume': { label: 'Resume', text: 'Release the hold and continue?' },
    'abort': { label: 'Abort', text: 'Abort: the canary weight goes to 0 at once?' },
    'retry': { label: 'Retry', text: 'Start the aborted rollout over from its first step?' },
    'undo': { label: 'Undo', text: 'Re-apply an earlier revision on the stable track?' },
  };

  const $ = id => document.getElementById(id);
  const state = {
    key: sessionStorage.getItem(KEY_STORAGE) || '',
    caller: null,
    agents: [],
    agent: null,
    frame: null,
    clockSkew: 0,
    stream: null,
    series: null,
    seen: { rolloutVersion: null, routeRevision: null, rolloutId: null, flagVersion: null },
  };

  // ---- HTTP -------------------------------------------------------------------------------------------------------
  class Problem extends Error {
    constructor(status, body) {
      super(body && body.title || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }

  async function api(method, path, options) {
    const opts = options || {};
    const headers = { 'X-Api-Key': state.key, 'Accept': 'application/json' };
    if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['If-Match'] = `"${opts.ifMatch}"`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), cache: 'no-store' });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { title: text }; }
    if (!response.ok) throw new Problem(response.status, json);
    return { json, etag: response.headers.get('ETag') };
  }

  async function tryGet(path) {
    try { return (await api('GET', path)).json; } catch (e) { if (e instanceof Problem && e.status === 404) return null; throw e; }
  }

  function showProblem(error) {
    const p = error instanceof Problem ? error.body : { title: 'Request failed', detail: String(error && error.message || error) };
    $('problem-title').textContent = p.title || 'Request failed';
    $('problem-status').textContent = error instanceof Problem ? `HTTP ${error.status}` : '';
    let detail = p.detail || '';
    if (p.errors) detail += ' ' + Object.entries(p.errors).map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`).join('; ');
    $('problem-detail').textContent = detail;
    $('problem').dataset.status = error instanceof Problem ? String(error.status) : '';
    $('problem').hidden = false;
  }

  function clearProblem() { $('problem').hidden = true; $('problem').dataset.status = ''; }

  const enc = encodeURIComponent;
  const agentPath = () => `/api/agents/${enc(state.agent)}`;

  // ---- key ----------------------------------------------------------------------------------------------------------
  async function useKey(key) {
    state.key = key;
    clearProblem();
    try {
      state.caller = (await api('GET', '/api/me')).json;
    } catch (e) {
      state.key = '';
      sessionStorage.removeItem(KEY_STORAGE);
      showProblem(e);
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    $('key-form').hidden = true;
    $('who').hidden = false;
    $('who-name').textContent = state.caller.name;
    $('who-role').textContent = state.caller.role;
    $('main').hidden = false;
    await loadAgents();
  }

  function forgetKey() {
    stopStream();
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = '';
    state.caller = null;
    $('key-input').value = '';
    $('key-form').hidden = false;
    $('who').hidden = true;
    $('main').hidden = true;
  }

  // ---- agents -------------------------------------------------------------------------------------------------------
  async function loadAgents() {
    try {
      state.agents = (await api('GET', '/api/agents')).json;
    } catch (e) { showProblem(e); return; }
    renderAgents();
    if (!state.agent && state.agents.length) selectAgent(state.agents[0].name);
  }

  function renderAgents() {
    const body = $('agents').tBodies[0];
    body.replaceChildren(...state.agents.map(a => {
      const tr = row([a.name, `#${a.stableRevision.number} ${a.stableRevision.version}`, pct(a.route.weight), a.activeRolloutId ? `#${a.activeRolloutId} active` : 'none']);
      tr.dataset.agent = a.name;
      tr.className = a.name === state.agent ? 'selected' : '';
      tr.addEventListener('click', () => selectAgent(a.name));
      return tr;
    }));
  }

  function selectAgent(name) {
    state.agent = name;
    state.frame = null;
    state.seen = { rolloutVersion: null, routeRevision: null, rolloutId: null, flagVersion: null };
    state.series = { weight: [], stable: [], canary: [] };
    renderAgents();
    startStream();
  }

  // ---- live stream --------------------------------------------------------------------------------------------------
  function stopStream() { if (state.stream) state.stream.abort(); state.stream = null; }

  function startStream() {
    stopStream();
    const controller = new AbortController();
    state.stream = controller;
    const agent = state.agent;
    let delay = 500;
    (async () => {
      while (!controller.signal.aborted) {
        try {
          setStreamState('connecting');
          const response = await fetch(`/api/agents/${enc(agent)}/live`, {
            headers: { 'X-Api-Key': state.key, 'Accept': 'text/event-stream' }, signal: controller.signal, cache: 'no-store' });
          if (!response.ok) {
            let body = null;
            try { body = await response.json(); } catch { /* not a problem document */ }
            throw new Problem(response.status, body);
          }
          setStreamState('live');
          delay = 500;
          await readEvents(response.body, controller.signal, (name, data) => { if (name === 'live') onFrame(JSON.parse(data)); });
        } catch (e) {
          if (controller.signal.aborted) return;
          if (e instanceof Problem && (e.status === 401 || e.status === 403 || e.status === 404)) { showProblem(e); setStreamState('stopped'); return; }
        }
        if (controller.signal.aborted) return;
        setStreamState('reconnecting');
        await new Promise(r => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10000);
      }
    })();
  }

  async function readEvents(body, signal, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.substring(0, end);
        buffer = buffer.substring(end + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.substring(0, colon);
          const value = colon < 0 ? '' : line.substring(colon + 1).replace(/^ /, '');
          if (field === 'event') name = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length) onEvent(name, data.join('\n'));
      }
    }
  }

  function setStreamState(text) { $('stream-state').textContent = text; $('stream-state').dataset.state = text; }

  function onFrame(frame) {
    if (frame.agent.name !== state.agent) return;
    state.frame = frame;
    state.clockSkew = Date.now() - Date.parse(frame.at);
    const t = Date.parse(frame.at) + state.clockSkew;
    state.series.weight.push([t, frame.agent.route.weight / 100]);
    const tr = frame.traffic;
    state.series.stable.push([t, tr ? tr.stable : null]);
    state.series.canary.push([t, tr ? tr.canary : null]);
    for (const k of ['weight', 'stable', 'canary']) {
      const s = state.series[k];
      while (s.length && s[0][0] < Date.now() - SPAN_MS - 60000) s.shift();
    }
    const agentRow = state.agents.find(a => a.name === frame.agent.name);
    if (agentRow) { Object.assign(agentRow, frame.agent); renderAgents(); }
    renderRollout();
    renderCharts();
    const r = frame.rollout;
    const changed = !r ? state.seen.rolloutId !== 0
      : r.version !== state.seen.rolloutVersion || r.id !== state.seen.rolloutId;
    if (changed || frame.agent.route.revision !== state.seen.routeRevision || frame.flagVersion !== state.seen.flagVersion) {
      state.seen = { rolloutVersion: r ? r.version : null, routeRevision: frame.agent.route.revision, rolloutId: r ? r.id : 0, flagVersion: frame.flagVersion };
      refreshDetails();
    }
  }

  // ---- rollout ------------------------------------------------------------------------------------------------------
  function renderRollout() {
    const frame = state.frame;
    const r = frame && frame.rollout;
    $('no-rollout').hidden = !!r;
    $('rollout').hidden = !r;
    if (r) {
      $('r-state').textContent = r.state;
      $('r-state').className = `pill state-${r.state}`;
      $('r-hold').hidden = !r.hold;
      $('r-hold').textContent = r.hold ? `held: ${r.hold}` : '';
      $('r-id').textContent = `#${r.id} (version ${r.version}) by ${r.createdBy}`;
      $('r-revisions').textContent = `#${r.fromRevision ? r.fromRevision.number + ' ' + r.fromRevision.version : '?'} → #${r.toRevision ? r.toRevision.number + ' ' + r.toRevision.version : '?'}`;
      $('r-weight').textContent = pct(r.state === 'Promoted' || r.state === 'Aborted' || r.state === 'RolledBack' ? frame.agent.route.weight : r.weight);
      $('r-step').textContent = stepText(r);
      $('r-step').dataset.index = String(r.currentStepIndex);
      $('r-message').textContent = r.message;
      $('r-next').textContent = r.nextAction;
      renderTimeline(r);
      renderTimer();
    }
    renderButtons();
  }

  function stepText(r) {
    if (r.currentStepIndex < 0) return `preparing (0/${r.stepCount})`;
    if (r.currentStepIndex >= r.stepCount) return `all ${r.stepCount} steps done`;
    // index/count with 0-based steps, as RolloutApi's messages number them ("entering step 1 (pause …)").
    return `${r.currentStepIndex}/${r.stepCount}: ${describe(r.currentStep)}`;
  }

  function describe(step) {
    if (!step) return '';
    if (step.setWeight !== undefined) return `set weight ${pct(step.setWeight)}`;
    if (step.pause) return step.pause.durationSeconds ? `pause ${step.pause.durationSeconds}s` : 'pause until promoted';
    if (step.analysis) return step.analysis.provider ? `analysis (${step.analysis.provider})` : 'analysis';
    return '?';
  }

  function renderTimeline(r) {
    const items = r.steps.map((step, i) => {
      const li = document.createElement('li');
      const status = i < r.currentStepIndex || r.state === 'Promoted' ? 'done' : i === r.currentStepIndex && r.state !== 'Aborted' && r.state !== 'RolledBack' ? 'current' : 'pending';
      li.className = status;
      li.dataset.status = status;
      li.textContent = describe(step);
      if (status === 'current') {
        const timer = document.createElement('span');
        timer.className = 'step-timer';
        timer.id = 'timeline-timer';
        li.appendChild(timer);
      }
      return li;
    });
    const end = document.createElement('li');
    end.className = r.state === 'Promoted' ? 'done' : r.state === 'Aborted' || r.state === 'RolledBack' ? 'failed' : 'pending';
    end.dataset.status = end.className;
    end.textContent = r.state === 'Aborted' ? 'aborted' : r.state === 'RolledBack' ? 'rolled back' : 'promoted';
    $('timeline').replaceChildren(...items, end);
  }

  function renderTimer() {
    const r = state.frame && state.frame.rollout;
    if (!r) return;
    const now = Date.now() - state.clockSkew;
    let text;
    if (r.completedAt) text = `finished ${new Date(r.completedAt).toLocaleTimeString()}`;
    else {
      text = `${secs((now - Date.parse(r.stepStartedAt)) / 1000)} in step`;
      if (r.pauseEndsAt) text += ` · pause ends in ${secs(Math.max(0, (Date.parse(r.pauseEndsAt) - now) / 1000))}`;
    }
    $('r-timer').textContent = text;
    const inline = $('timeline-timer');
    if (inline) inline.textContent = ` ${text}`;
  }

  function renderButtons() {
    const can = !!(state.caller && state.caller.canOperate);
    const r = state.frame && state.frame.rollout;
    const active = r && ['Progressing', 'Paused', 'Analyzing'].includes(r.state);
    const allowed = {
      'promote': active, 'promote-full': active, 'abort': active,
      'pause': active && !r.hold, 'resume': active && (!!r.hold || r.state === 'Paused'),
      'retry': r && r.state === 'Aborted', 'undo': !active, 'start': !active,
    };
    for (const button of document.querySelectorAll('button.op')) {
      const op = button.dataset.op;
      button.disabled = !can || (op && op in allowed && !allowed[op]);
      button.title = can ? '' : 'Your key is a viewer key: it can read but not act.';
    }
  }

  // ---- details: audit, revisions, flags, analysis ---------------------------------------------------------------------
  let refreshing = null;
  function refreshDetails() {
    if (refreshing) { refreshing.again = true; return; }
    refreshing = { again: false };
    (async () => {
      try {
        await Promise.all([loadAudit(), loadRevisions(), loadFlags(), loadAnalysis()]);
      } catch (e) { showProblem(e); }
      const again = refreshing.again;
      refreshing = null;
      if (again) refreshDetails();
    })();
  }

  async function loadAudit() {
    const entries = (await api('GET', `${agentPath()}/audit?limit=50`)).json;
    seedWeightHistory(entries);
    $('audit').tBodies[0].replaceChildren(...entries.map(e => {
      const tr = row([time(e.at), e.actor, e.action, `${point(e.from)} → ${point(e.to)}`, e.reason]);
      tr.dataset.action = e.action;
      tr.dataset.testid = 'audit-row';
      tr.setAttribute('data-testid', 'audit-row');
      return tr;
    }));
  }

  // The weight chart starts with the audit log's weight changes (before the page was opened), then follows the stream.
  function seedWeightHistory(entries) {
    const series = state.series && state.series.weight;
    if (!series) return;
    const firstLive = series.length ? series[0][0] : Date.now();
    const earlier = entries.filter(e => e.to && Date.parse(e.at) + state.clockSkew < firstLive - 1)
      .map(e => [Date.parse(e.at) + state.clockSkew, e.to.weight / 100]).reverse();
    if (!earlier.length) return;
    const seeded = [];
    for (const [t, v] of earlier) {
      if (seeded.length) seeded.push([t - 1, seeded[seeded.length - 1][1]]);
      seeded.push([t, v]);
    }
    if (series.length) seeded.push([firstLive - 1, seeded[seeded.length - 1][1]]);
    series.unshift(...seeded.filter(([t]) => !series.some(([u]) => u === t)));
  }

  async function loadRevisions() {
    const revisions = (await api('GET', `${agentPath()}/revisions`)).json;
    const flagSets = await Promise.all(revisions.map(r => tryGet(`${agentPath()}/revisions/${r.number}/flags`)));
    state.revisionFlags = {};
    const stable = state.frame ? state.frame.agent.stableRevision.number : null;
    $('revisions').tBodies[0].replaceChildren(...revisions.map((r, i) => {
      const flags = flagIds(flagSets[i]);
      state.revisionFlags[r.number] = flags;
      const image = [r.imageTag, r.build].filter(Boolean).join(' · ');
      const tr = row([`#${r.number}${r.number === stable ? ' (stable)' : ''}`, r.version, image, flags.length ? flags.join(', ') : '—', `${time(r.createdAt)} by ${r.createdBy}`, '']);
      tr.dataset.revision = String(r.number);
      if (r.number !== stable) {
        const start = document.createElement('button');
        start.className = 'op';
        start.dataset.op = 'start';
        start.textContent = 'Start rollout';
        start.dataset.testid = 'start-revision';
        start.addEventListener('click', () => startExisting(r));
        const undo = document.createElement('button');
        undo.className = 'op';
        undo.dataset.op = 'undo';
        undo.textContent = 'Undo to this';
        undo.dataset.testid = 'undo-to';
        undo.addEventListener('click', () => operate('undo', r.number));
        tr.lastChild.append(start, ' ', undo);
      }
      return tr;
    }));
    renderButtons();
  }

  function flagIds(set) {
    const list = set && set.feature_management && set.feature_management.feature_flags;
    return Array.isArray(list) ? list.map(f => f.id).filter(Boolean) : [];
  }

  async function loadFlags() {
    const [definitions, kills] = await Promise.all([tryGet(`${agentPath()}/flags/definitions`), api('GET', `${agentPath()}/flags/kills`)]);
    state.flagVersion = kills.json.version;
    $('flags').dataset.version = String(kills.json.version);
    const where = new Map();
    const add = (id, source) => { if (!where.has(id)) where.set(id, []); where.get(id).push(source); };
    for (const id of flagIds(definitions)) add(id, 'agent');
    for (const [rev, ids] of Object.entries(state.revisionFlags || {})) for (const id of ids) add(id, `#${rev}`);
    for (const k of kills.json.kills) if (k.flag !== '*') add(k.flag, 'kill switch');
    const rows = [...where.keys()].sort().map(id => flagRow(id, where.get(id), kills.json.kills.filter(k => k.flag === id)));
    rows.push(flagRow('*', ['every flag'], kills.json.kills.filter(k => k.flag === '*')));
    $('flags').tBodies[0].replaceChildren(...rows);
    renderButtons();
  }

  function flagRow(id, sources, kills) {
    const tr = row([id === '*' ? 'all flags' : id, [...new Set(sources)].join(', '),
      kills.length ? kills.map(k => `off ${scopeText(k)} (${k.by})`).join('; ') : 'on', '']);
    tr.dataset.flag = id;
    tr.dataset.killed = kills.length ? 'true' : 'false';
    const cell = tr.lastChild;
    const everywhere = kills.find(k => k.track === null && k.revision === null);
    const button = document.createElement('button');
    button.className = 'op' + (everywhere ? '' : ' danger');
    button.textContent = everywhere ? 'Restore' : 'Kill switch';
    button.dataset.testid = everywhere ? 'flag-restore' : 'flag-kill';
    button.addEventListener('click', () => switchFlag(id, !everywhere));
    cell.appendChild(button);
    return tr;
  }

  const scopeText = k => k.track ? `on ${k.track}` : k.revision ? `for revision #${k.revision}` : 'everywhere';

  // The rollout's analysis runs (RolloutApi/Rollouts/Analysis/README.md): a row per run with its state, then a row per
  // metric with its measurements (oldest first) and the newest measurement's verdict. Without runs (the built-in "pass"
  // provider records none), the rollout's last step verdict.
  async function loadAnalysis() {
    const r = state.frame && state.frame.rollout;
    const body = $('analysis').tBodies[0];
    if (!r) { body.replaceChildren(); return; }
    const doc = await tryGet(`${agentPath()}/rollouts/${r.id}/analysis-runs`);
    const runs = doc && Array.isArray(doc.runs) ? doc.runs : [];
    const rows = [];
    for (const run of runs) rows.push(...analysisRunRows(run));
    if (!runs.length && r.lastAnalysis) {
      const a = r.lastAnalysis;
      rows.push(verdictRow(['last', String(a.stepIndex), a.provider, a.summary], a.verdict, a.at));
    }
    body.replaceChildren(...rows);
  }

  function analysisRunRows(run) {
    const step = run.stepIndex === null || run.stepIndex === undefined ? 'background' : String(run.stepIndex);
    const out = [verdictRow([`#${run.id}`, step, `${run.template} v${run.templateVersion} (${run.kind})`, run.summary || ''],
      run.state, run.finishedAt || run.startedAt)];
    const byMetric = new Map();
    for (const m of run.measurements || []) {
      for (const metric of m.metrics || []) {
        if (!byMetric.has(metric.metric)) byMetric.set(metric.metric, []);
        byMetric.get(metric.metric).push({ number: m.number, at: m.at, ...metric });
      }
    }
    for (const [name, list] of byMetric) {
      const last = list[list.length - 1];
      const measurements = list.slice(-8).map(x => `#${x.number} ${x.verdict}${x.statistic === null || x.statistic === undefined ? '' : ` (${fmtNum(x.statistic)})`}`).join(', ');
      const tr = verdictRow(['', '', `${name} · ${last.source}/${last.judge}`, `${measurements}${last.reason ? ' — ' + last.reason : ''}`], last.verdict, last.at);
      tr.className = 'metric';
      out.push(tr);
    }
    return out;
  }

  function verdictRow(cells, verdict, at) {
    const tr = row([...cells, '', at ? time(at) : '']);
    const v = tr.children[4];
    v.textContent = verdict;
    v.className = `verdict verdict-${verdict}`;
    v.setAttribute('data-testid', 'verdict');
    return tr;
  }

  // ---- actions ------------------------------------------------------------------------------------------------------
  function confirmAction(text, extra) {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-extra').replaceChildren(...(extra ? [extra] : []));
    $('confirm-reason').value = '';
    dialog.returnValue = '';
    return new Promise(resolve => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? { reason: $('confirm-reason').value.trim() } : null), { once: true });
      dialog.showModal();
    });
  }

  async function operate(op, revision) {
    clearProblem();
    const frame = state.frame;
    if (!frame) return;
    // The ETag is what the page showed when the button was pressed: if someone acts while this one confirms, a 412 says so.
    const r = frame.rollout;
    let extra = null, revisionInput = null;
    if (op === 'undo') {
      const label = document.createElement('label');
      label.textContent = 'revision (empty = the previous stable one) ';
      revisionInput = document.createElement('input');
      revisionInput.type = 'number';
      revisionInput.min = '1';
      revisionInput.id = 'confirm-revision';
      if (revision) revisionInput.value = String(revision);
      label.appendChild(revisionInput);
      extra = label;
    }
    const etag = op === 'undo' ? frame.agent.route.revision : r && r.version;
    const answer = await confirmAction(`${OPS[op].text} (${state.agent})`, extra);
    if (!answer) return;
    const body = {};
    if (answer.reason) body.reason = answer.reason;
    if (revisionInput && revisionInput.value) body.revision = Number(revisionInput.value);
    const path = op === 'undo' ? `${agentPath()}/undo` : `${agentPath()}/rollout/${op}`;
    try {
      const result = (await api('POST', path, { body, ifMatch: etag })).json;
      applyStatus(result);
    } catch (e) { showProblem(e); }
  }

  async function switchFlag(flag, kill) {
    clearProblem();
    const etag = state.flagVersion;
    const all = flag === '*';
    const answer = await confirmAction(`${kill ? 'Turn off' : 'Restore'} ${all ? 'every flag' : `flag '${flag}'`} everywhere (${state.agent})?`);
    if (!answer) return;
    const path = all ? `${agentPath()}/flags/kill` : `${agentPath()}/flags/${enc(flag)}/kill`;
    try {
      await api(kill ? 'POST' : 'DELETE', path, { body: answer.reason ? { reason: answer.reason } : {}, ifMatch: etag });
      refreshDetails();
    } catch (e) { showProblem(e); }
  }

  async function startRollout(event) {
    event.preventDefault();
    clearProblem();
    const version = $('new-version').value.trim();
    const imageTag = $('new-image').value.trim();
    const stepsText = $('new-steps').value.trim();
    let steps;
    try { steps = stepsText ? JSON.parse(stepsText) : undefined; } catch (e) { showProblem(new Problem(400, { title: 'Invalid steps', detail: e.message })); return; }
    const answer = await confirmAction(`Create revision ${version}${imageTag ? ` (image ${imageTag})` : ''} and start a rollout of ${state.agent}?`);
    if (!answer) return;
    try {
      const revision = (await api('POST', `${agentPath()}/revisions`, { body: { version, ...(imageTag ? { imageTag } : {}), ...(answer.reason ? { reason: answer.reason } : {}) } })).json;
      const status = (await api('POST', `${agentPath()}/rollouts`, { body: { revision: revision.number, ...(steps ? { steps } : {}), ...(answer.reason ? { reason: answer.reason } : {}) },
        ifMatch: state.frame ? state.frame.agent.route.revision : null })).json;
      applyStatus(status);
      $('start-form').reset();
    } catch (e) { showProblem(e); }
  }

  // Starts a rollout to an existing revision, with the steps typed in the form above (empty: the default staged rollout).
  async function startExisting(revision) {
    clearProblem();
    const stepsText = $('new-steps').value.trim();
    let steps;
    try { steps = stepsText ? JSON.parse(stepsText) : undefined; } catch (e) { showProblem(new Problem(400, { title: 'Invalid steps', detail: e.message })); return; }
    const etag = state.frame ? state.frame.agent.route.revision : null;
    const answer = await confirmAction(`Start a rollout of ${state.agent} to revision #${revision.number} (${revision.version}) with ${steps ? steps.length + ' steps' : 'the default steps'}?`);
    if (!answer) return;
    try {
      applyStatus((await api('POST', `${agentPath()}/rollouts`, { body: { revision: revision.number, ...(steps ? { steps } : {}), ...(answer.reason ? { reason: answer.reason } : {}) }, ifMatch: etag })).json);
    } catch (e) { showProblem(e); }
  }

  // An operation's answer is the newest status: show it now instead of waiting for the next frame.
  function applyStatus(status) {
    if (!state.frame || !status || status.agent !== state.agent) return;
    state.frame = { ...state.frame, rollout: status };
    renderRollout();
  }

  // ---- charts ------------------------------------------------------------------------------------------------------
  function renderCharts() {
    const s = state.series;
    const tr = state.frame && state.frame.traffic;
    $('traffic-note').textContent = tr
      ? `last ${tr.windowSeconds}s per sample, ${tr.gateways} gateway(s) · stable ${fmtNum(tr.stable.requestsPerSecond)}/s, canary ${fmtNum(tr.canary.requestsPerSecond)}/s`
      : (state.frame && state.frame.trafficError) || '';
    const pick = (track, f) => s[track].map(([t, v]) => [t, v ? f(v) : null]);
    const C = window.AgentCharts;
    C.render($('chart-weight'), [{ key: 'weight', cls: 'canary', points: s.weight, step: false }], { spanMs: SPAN_MS, fixedMax: 100 });
    C.render($('chart-rps'), ['stable', 'canary'].map(k => ({ key: `${k}-rps`, cls: k, points: pick(k, v => v.requestsPerSecond) })), { spanMs: SPAN_MS });
    C.render($('chart-errors'), ['stable', 'canary'].map(k => ({ key: `${k}-errors`, cls: k, points: pick(k, v => v.errorRate * 100) })), { spanMs: SPAN_MS });
    C.render($('chart-latency'), ['stable', 'canary'].flatMap(k => [
      { key: `${k}-p50`, cls: k, points: pick(k, v => v.p50) },
      { key: `${k}-p95`, cls: k, dash: '5 3', points: pick(k, v => v.p95) },
      { key: `${k}-p99`, cls: k, dash: '1 3', points: pick(k, v => v.p99) },
    ]), { spanMs: SPAN_MS });
  }

  // ---- helpers ------------------------------------------------------------------------------------------------------
  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); }
    return tr;
  }
  const pct = bp => `${(bp / 100).toFixed(bp % 100 === 0 ? 0 : 2)}%`;
  const secs = s => s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(s)}s`;
  const time = iso => new Date(iso).toLocaleString();
  const point = p => p ? [p.state, p.step !== null && p.step !== undefined ? `step ${p.step}` : null, pct(p.weight)].filter(Boolean).join(' ') : '—';
  const fmtNum = v => v === null || v === undefined ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);

  // ---- wiring -------------------------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('key-form').addEventListener('submit', e => { e.preventDefault(); useKey($('key-input').value.trim()); $('key-input').value = ''; });
    $('key-forget').addEventListener('click', forgetKey);
    $('problem-close').addEventListener('click', clearProblem);
    $('start-form').addEventListener('submit', startRollout);
    for (const button of document.querySelectorAll('.actions button.op[data-op]')) button.addEventListener('click', () => operate(button.dataset.op));
    setInterval(renderTimer, 1000);
    setInterval(() => { if (state.frame) renderCharts(); }, 5000);
    renderButtons();
    if (state.key) useKey(state.key);
  });
})();
