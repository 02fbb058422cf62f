// The agent console's small helpers: keyboard shortcuts, the composer's reply/note switch,
// presence ("is replying") and ticking every row of the queue. Pages work without it.
"use strict";

(function () {
  const doc = document;

  // Shortcuts must never steal letters someone is typing.
  function isTyping(target) {
    if (!(target instanceof HTMLElement)) return false;
    if (target.isContentEditable) return true;
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function composerBody() {
    return doc.querySelector("[data-composer='body']");
  }

  function setKind(kind) {
    const form = doc.querySelector("[data-composer-form]");
    if (!form) return;
    const radio = form.querySelector("input[name='kind'][value='" + kind + "']");
    if (radio) radio.checked = true;
    form.dataset.kind = kind;
    const body = composerBody();
    if (body) {
      body.scrollIntoView({ block: "center" });
      body.focus();
    }
  }

  // --- The composer: reply or note, and presence ------------------------------------
  doc.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.name === "kind") {
      const form = target.closest("[data-composer-form]");
      if (form) form.dataset.kind = target.value;
    }
    if (target instanceof HTMLInputElement && target.matches("[data-select-all]")) {
      doc.querySelectorAll("#bulk-form input[name='ticket']").forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  let presenceState = "viewing";
  function updatePresence() {
    const input = doc.getElementById("presence-state");
    const area = doc.getElementById("presence");
    const body = composerBody();
    if (!input || !area || !body) return;
    const replying = doc.activeElement === body || body.value.trim() !== "";
    const state = replying ? "replying" : "viewing";
    if (state !== presenceState) {
      presenceState = state;
      input.value = state;
      if (window.htmx) window.htmx.trigger(area, "presence-change");
    }
  }
  doc.addEventListener("focusin", updatePresence);
  doc.addEventListener("focusout", function () {
    window.setTimeout(updatePresence, 0);
  });
  doc.addEventListener("input", function (event) {
    if (event.target === composerBody()) updatePresence();
  });

  // --- Keyboard shortcuts ------------------------------------------------------------
  let pendingG = false;
  let gTimer = 0;

  function click(selector) {
    const element = doc.querySelector(selector);
    if (element instanceof HTMLElement) element.click();
    return Boolean(element);
  }

  function showShortcuts() {
    const dialog = doc.getElementById("shortcuts");
    if (dialog instanceof HTMLDialogElement && !dialog.open) dialog.showModal();
  }

  doc.addEventListener("click", function (event) {
    const target = event.target;
    if (target instanceof Element && target.closest("[data-shortcuts-open]")) showShortcuts();
  });

  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    if (doc.querySelector("dialog[open]")) return;
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      window.clearTimeout(gTimer);
      const link = key === "q" ? "a[data-shortcut-queue]" : key === "c" ? "a[href$='/console/call/']" : "";
      if (link && click(link)) event.preventDefault();
      return;
    }
    if (key === "g") {
      pendingG = true;
      gTimer = window.setTimeout(function () {
        pendingG = false;
      }, 1500);
      return;
    }
    if (key === "?") {
      event.preventDefault();
      showShortcuts();
    } else if (key === "r" && composerBody()) {
      event.preventDefault();
      setKind("reply");
    } else if (key === "n" && composerBody()) {
      event.preventDefault();
      setKind("note");
    } else if (key === "a") {
      if (click("[data-shortcut-assign-me]")) event.preventDefault();
    }
  });

  // The "tick all" box only makes sense with this script, so it is shown by it.
  doc.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.hidden = false;
  });
  doc.addEventListener("htmx:afterSettle", function () {
    doc.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.hidden = false;
    });
  });

  // The log-a-call screen shows only the fields for the chosen ending.
  function showOutcome() {
    const chosen = doc.querySelector("input[name='outcome']:checked");
    doc.querySelectorAll(".call-outcome").forEach(function (block) {
      block.hidden = Boolean(chosen) && block.dataset.outcome !== chosen.value;
    });
  }
  doc.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.name === "outcome") showOutcome();
  });
  showOutcome();
  // Lets browser tests (and curious people) know the shortcuts are listening.
  doc.documentElement.dataset.consoleReady = "true";
})();

// --- Sharing a help article in the composer ---------------------------------------------
// The picker's results (knowledge/_pick_results.html) carry the article in data-kb-*
// attributes. "Insert link" puts a Markdown link at the cursor, "Insert text" the article's
// words; either way the article is linked to the ticket when the message is sent.
(function () {
  const doc = document;
  doc.addEventListener("click", function (event) {
    const target = event.target;
    const button = target instanceof Element ? target.closest("[data-kb-insert]") : null;
    if (!(button instanceof HTMLElement)) return;
    const form = button.closest("form") || doc.querySelector("[data-composer-form]");
    const body = doc.querySelector("[data-composer='body']");
    if (!(body instanceof HTMLTextAreaElement) || !form) return;
    const data = button.dataset;
    const insert =
      data.kbInsert === "link" ? "[" + data.kbTitle + "](" + data.kbUrl + ")" : data.kbText || "";
    const start = body.selectionStart === undefined ? body.value.length : body.selectionStart;
    const end = body.selectionEnd === undefined ? start : body.selectionEnd;
    const before = body.value.slice(0, start);
    const gap = before && !/\s$/.test(before) ? (data.kbInsert === "link" ? " " : "\n\n") : "";
    body.value = before + gap + insert + body.value.slice(end);
    const caret = start + gap.length + insert.length;
    body.focus();
    body.setSelectionRange(caret, caret);
    body.dispatchEvent(new Event("input", { bubbles: true }));
    const id = data.kbArticle || "";
    if (id && !form.querySelector("input[name='article'][value='" + CSS.escape(id) + "']")) {
      const hidden = doc.createElement("input");
      hidden.type = "hidden";
      hidden.name = "article";
      hidden.value = id;
      form.appendChild(hidden);
    }
    const note = doc.querySelector("[data-kb-picked]");
    if (note) note.hidden = false;
  });
})();
