// Pages work without this script; with it, what only a page without script needs hides.
document.documentElement.classList.add("js");

// A form marked data-submit-once sends once: its submit button is disabled as it goes.
// The Idempotency-Key in the form is what makes a second send harmless; this spares it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-submit-once")) return;
  if (event.submitter && event.submitter.name === "quote") return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  var button = form.querySelector("button.primary");
  if (button) {
    setTimeout(function () {
      button.disabled = true;
      button.textContent = "Placing your order…";
    }, 0);
  }
});
