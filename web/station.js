// The station page's live link: Server-Sent Events carry rendered parts of the page, which
// replace (or are added to) the elements with their ids. EventSource reconnects by itself and
// sends the last update's id, so the server replays what was missed; when it cannot, the page
// loads again. Nothing here renders: the server does.
"use strict";
(function () {
  const link = document.getElementById("link");
  const sound = document.getElementById("sound");
  sound.checked = localStorage.getItem("floorgate-sound") === "on";
  sound.addEventListener("change", () => localStorage.setItem("floorgate-sound", sound.checked ? "on" : "off"));
  window.floorgateArrivals = [];

  function state(name, words) { link.dataset.state = name; link.textContent = words; }

  function beep() {
    if (!sound.checked) return;
    const audio = new AudioContext(), tone = audio.createOscillator();
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
      }
    }
    for (const id of update.refresh) {
      const frame = document.getElementById(id);
      if (frame && frame.contentWindow) frame.contentWindow.location.reload();
    }
    if (update.cue === "fail") beep();
  }

  const source = new EventSource("/events?after=" + document.body.dataset.lastUpdate);
  source.onopen = () => state("live", "● live");
  source.onerror = () => state("down", "○ reconnecting…");
  source.onmessage = (message) => apply(JSON.parse(message.data));
  source.addEventListener("reload", () => location.reload());

  // Signing: who signs (their printed name from the record), what it means, when; then the
  // password. The same key is sent again if Sign is pressed twice, so it signs once.
  const dialog = document.getElementById("sign-dialog");
  if (!dialog) return;
  const field = (id) => document.getElementById(id);
  let action = null, clock = null;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.sign");
    if (!button) return;
    action = { name: button.dataset.action, params: JSON.parse(button.dataset.params), key: button.dataset.key };
    field("sign-subject").textContent = button.dataset.subject;
    field("sign-meaning").textContent = button.dataset.meaning;
    field("sign-role").textContent = button.dataset.role;
    field("sign-disposition").hidden = action.name !== "nc-disposition";
    for (const id of ["sign-user", "sign-password", "sign-comment"]) field(id).value = "";
    field("sign-signer").textContent = ""; field("sign-result").textContent = "";
    const tick = () => { field("sign-time").textContent = new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC"; };
    tick(); clock = setInterval(tick, 1000);
    dialog.showModal(); field("sign-user").focus();
  });
  field("sign-user").addEventListener("change", async () => {
    const user = field("sign-user").value.trim();
    if (!user) return;
    const answer = await fetch("/signer?user=" + encodeURIComponent(user)).then((r) => r.json());
    field("sign-signer").textContent = answer.ok ? "Printed name: " + answer.printed_name + " (roles: " + answer.roles.join(", ") + ")" : answer.message;
  });
  field("sign-cancel").addEventListener("click", () => { clearInterval(clock); dialog.close(); });
  field("sign-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(field("sign-form"));
    const body = { user: form.get("user"), password: form.get("password"), idempotency_key: action.key, params: action.params };
    if (action.name === "nc-disposition") { body.params.disposition = form.get("disposition"); body.params.comment = form.get("comment"); }
    const result = field("sign-result");
    result.className = "result"; result.textContent = "Signing…";
    const answer = await fetch("/actions/" + action.name, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then((r) => r.json()).catch(() => ({ ok: false, message: "the station did not answer; try again" }));
    result.textContent = answer.message;
    result.className = answer.ok ? "result" : "result error";
    if (answer.ok) setTimeout(() => { clearInterval(clock); dialog.close(); }, 800);
  });
})();
