"""The agent test console page: staff type as the callee, the agent answers.

A single self-contained page (no front-end libraries) that drives the test-call API with the
API key the user pastes (kept in the tab's sessionStorage only).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/console", response_class=HTMLResponse)
def console_page() -> str:
    return _PAGE


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent test console · Ringfence</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d2430; }
h1 { font-size: 1.4rem; } label { display: block; margin: .4rem 0 .1rem; font-weight: 600; }
input, select, button { font: inherit; padding: .35rem .5rem; }
#log { border: 1px solid #d0d7e2; border-radius: 6px; padding: .75rem; min-height: 12rem;
       margin: 1rem 0; background: #fafbfd; }
.agent { color: #0b4fa8; } .callee { color: #333; text-align: right; }
.events { font-size: .8rem; color: #6a5300; margin: .1rem 0 .6rem; }
.ended { font-weight: 600; color: #8a1c1c; }
.note { font-size: .85rem; color: #555; }
</style></head>
<body>
<h1>Agent test console</h1>
<p class="note">Talk to your Voice AI agent as if you were the patient. Test calls are logged
with Call Type <b>Test</b> and are a dry run: the actions shown are not applied to the CRM.</p>
<label for="key">API key</label><input id="key" type="password" size="50" autocomplete="off">
<label for="agent">Agent</label><select id="agent"></select>
<button id="load" type="button">Load agents</button>
<label for="purpose">Purpose</label>
<select id="purpose">
  <option>appointment_confirmation</option><option>no_show_recovery</option>
  <option>consult_follow_up</option><option>treatment_reminder</option>
  <option>lead_reactivation</option>
</select>
<label for="contact">Contact id (optional: talk as that patient)</label>
<input id="contact" type="number" min="1">
<p><button id="start" type="button">Start test call</button></p>
<div id="log" aria-live="polite"></div>
<form id="say"><input id="text" size="50" placeholder="Say something as the callee…"
  disabled> <button id="send" disabled>Send</button></form>
<script>
const $ = (id) => document.getElementById(id);
let callId = null;
$("key").value = sessionStorage.getItem("ringfence-key") || "";
function headers() {
  sessionStorage.setItem("ringfence-key", $("key").value);
  return {"Authorization": "Bearer " + $("key").value, "Content-Type": "application/json"};
}
function line(cls, text) {
  const p = document.createElement("p"); p.className = cls; p.textContent = text;
  $("log").appendChild(p);
}
function show(reply, speaker) {
  line("agent", "Agent: " + reply.agent_text);
  if (reply.events.length) {
    line("events", "events: " + reply.events.map(e => e.type).join(", "));
  }
  if (reply.ended) { line("ended", "The call ended."); $("text").disabled = true;
                     $("send").disabled = true; }
}
async function call(path, body) {
  const response = await fetch("/api/v1" + path, {method: body ? "POST" : "GET",
    headers: headers(), body: body ? JSON.stringify(body) : undefined});
  const data = await response.json();
  if (!response.ok) { throw new Error(JSON.stringify(data.detail)); }
  return data;
}
$("load").onclick = async () => {
  try {
    const page = await call("/voice-agents?limit=200");
    $("agent").innerHTML = "";
    for (const agent of page.items) {
      const option = document.createElement("option");
      option.value = agent.id; option.textContent = agent.name + " (" + agent.practice_name + ")";
      $("agent").appendChild(option);
    }
  } catch (error) { line("ended", "Error: " + error.message); }
};
$("start").onclick = async () => {
  $("log").innerHTML = "";
  const body = {agent_id: Number($("agent").value), purpose: $("purpose").value};
  if ($("contact").value) { body.contact_id = Number($("contact").value); }
  else { body.phone = "+12125550100"; }
  try {
    const reply = await call("/test-calls", body);
    callId = reply.id; show(reply);
    $("text").disabled = false; $("send").disabled = false; $("text").focus();
  } catch (error) { line("ended", "Error: " + error.message); }
};
$("say").onsubmit = async (event) => {
  event.preventDefault();
  const text = $("text").value.trim(); if (!text || !callId) { return; }
  line("callee", "You: " + text); $("text").value = "";
  try { show(await call("/test-calls/" + callId + "/turns", {text})); }
  catch (error) { line("ended", "Error: " + error.message); }
};
</script>
</body></html>"""
