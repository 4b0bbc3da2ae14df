// The station page's live link: Server-Sent Events carry rendered parts of the page, which
// replace (or are added to) the elements with their ids. EventSource reconnects by itself and
// sends the last update's id, so the server replays what was missed; when it cannot (too far
// behind, or the gateway restarted), the page loads again. Nothing here renders: the server does.
"use strict";
(function () {
  const link = document.getElementById("link");
  const sound = document.getElementById("sound");
  sound.checked = localStorage.getItem("floorgate-sound") === "on";
  let audio = null;  // one context, made and resumed on the operator's own click (browsers require it)
  sound.addEventListener("change", () => {
    localStorage.setItem("floorgate-sound", sound.checked ? "on" : "off");
    if (sound.checked) { audio = audio || new AudioContext(); audio.resume(); }
  });
  document.addEventListener("click", () => { if (audio) audio.resume(); });
  // When each reading reached the page (tests and the benchmark read it); the last 20000.
  window.floorgateArrivals = [];

  function state(name, words) { link.dataset.state = name; link.textContent = words; }

  function beep() {
    if (!sound.checked) return;
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880; tone.connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.4);
  }

  function apply(update) {
    for (const part of update.fragments) {
      const target = document.getElementById(part.target);
      if (!target) continue;
      if (part.mode === "prepend") {
        target.insertAdjacentHTML("afterbegin", part.html);
        const most = Number(target.dataset.max || 0);
        while (most && target.children.length > most) target.lastElementChild.remove();
      } else {
        target.innerHTML = part.html;
      }
      if (part.target === "reading-list") {
        const item = target.firstElementChild;
        window.floorgateArrivals.push({ value: item.dataset.value, verdict: item.dataset.verdict, at: Date.now() });
        if (window.floorgateArrivals.length > 20000) window.floorgateArrivals.shift();
      }
    }
    for (const id of update.refresh) {
      const frame = document.getElementById(id);
      if (frame && frame.contentWindow) frame.contentWindow.location.reload();
    }
    if (update.cue === "fail") beep();
  }

  const body = document.body.dataset;
  const source = new EventSource("/events?run=" + encodeURIComponent(body.run) + "&after=" + body.lastUpdate);
  source.onopen = () => state("live", "● live");
  source.onerror = () => state("down", "○ reconnecting…");
  source.onmessage = (message) => apply(JSON.parse(message.data));
  source.addEventListener("reload", () => location.reload());

  // Signing: who signs (their printed name from the record), what it means, when; then the
  // password. Each opening of the dialog has its own idempotency key, sent again if Sign is
  // pressed twice, so it signs once.
  const dialog = document.getElementById("sign-dialog");
  if (!dialog) return;
  const field = (id) => document.getElementById(id);
  let action = null, clock = null, lookup = 0, token = null;

  function uuidv7() {  // the record's idempotency keys are UUIDv7: milliseconds, then random bits
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    let time = Date.now();
    for (let i = 5; i >= 0; i--) { bytes[i] = time % 256; time = Math.floor(time / 256); }
    bytes[6] = (bytes[6] & 0x0f) | 0x70; bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.sign");
    if (!button) return;
    action = { name: button.dataset.action, params: JSON.parse(button.dataset.params), key: uuidv7() };
    field("sign-subject").textContent = button.dataset.subject;
    field("sign-meaning").textContent = button.dataset.meaning;
    field("sign-role").textContent = button.dataset.role;
    field("sign-disposition").hidden = action.name !== "nc-disposition";
    field("sign-form").reset();
    field("sign-signer").textContent = ""; field("sign-result").textContent = "";
    field("sign-confirm").disabled = true;  // until the record has said who the user is
    const tick = () => { field("sign-time").textContent = new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC"; };
    tick(); clearInterval(clock); clock = setInterval(tick, 1000);
    dialog.showModal(); field("sign-user").focus();
  });
  dialog.addEventListener("close", () => clearInterval(clock));
  field("sign-user").addEventListener("change", async () => {
    const user = field("sign-user").value.trim(), asked = ++lookup;
    field("sign-confirm").disabled = true;
    if (!user) { field("sign-signer").textContent = ""; return; }
    const answer = await fetch("/signer?user=" + encodeURIComponent(user)).then((r) => r.json())
      .catch(() => ({ ok: false, message: "the station did not answer; try again" }));
    if (asked !== lookup) return;  // a later user id was typed meanwhile
    field("sign-signer").textContent = answer.ok ? "Printed name: " + answer.printed_name + " (roles: " + answer.roles.join(", ") + ")" : answer.message;
    token = answer.ok ? answer.token : null;
    field("sign-confirm").disabled = !answer.ok;
  });
  field("sign-cancel").addEventListener("click", () => dialog.close());
  field("sign-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(field("sign-form"));
    const params = Object.assign({}, action.params);
    if (action.name === "nc-disposition") { params.disposition = form.get("disposition"); params.comment = form.get("comment"); }
    const request = { user: form.get("user"), password: form.get("password"), token: token, idempotency_key: action.key, params: params };
    const result = field("sign-result");
    result.className = "result"; result.textContent = "Signing…";
    const answer = await fetch("/actions/" + action.name, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) })
      .then((r) => r.json()).catch(() => ({ ok: false, message: "the station did not answer; try again" }));
    result.textContent = answer.message;
    result.className = answer.ok ? "result" : "result error";
    if (answer.ok) setTimeout(() => dialog.close(), 800);
  });
})();
