// The desk's login form: the key also goes into this tab's sessionStorage, where the desk page reads it for
// its API calls (the server keeps it in an HttpOnly cookie for the page itself and never sends it back).
(() => {
  "use strict";
  const KEY_STORE = "loan-assistant.desk-key";
  const form = document.getElementById("desk-login");
  form.addEventListener("submit", () => {
    sessionStorage.setItem(KEY_STORE, document.getElementById("login-key").value.trim());
  });
})();
