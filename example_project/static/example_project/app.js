// The example page of jwtauth's cookie transport.
//
// The access and refresh tokens live in HttpOnly cookies that the browser sends by
// itself: this script never reads, stores or sends a token. Unsafe requests carry
// Django's CSRF token (from the non-HttpOnly `csrftoken` cookie) in `X-CSRFToken`.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    return { status: response.status, data };
  }

  const errorOf = (result) => (result.data && result.data.error) || { code: "", message: "" };

  // One refresh at a time: with rotation, two concurrent refreshes with the same
  // cookie would look like token theft and end the session.
  let refreshing = null;
  function refresh() {
    if (refreshing === null) {
      refreshing = call("POST", "/auth/refresh/", {})
        .then((result) => result.status === 200)
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  // The access cookie's Max-Age equals the token's lifetime, so an expired token
  // usually shows up as no token at all: both mean "refresh, then try again".
  async function withRefresh(method, url, body) {
    let result = await call(method, url, body);
    const code = errorOf(result).code;
    if (result.status === 401 && (code === "TOKEN_EXPIRED" || code === "NO_TOKEN")) {
      if (await refresh()) {
        result = await call(method, url, body);
      }
    }
    return result;
  }

  function setStatus(text, isError = false) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function showLoggedOut(text, isError = false) {
    $("account").hidden = true;
    $("login-form").hidden = false;
    for (const id of ["user-username", "user-email", "user-id", "user-roles"]) {
      $(id).textContent = "";
    }
    setStatus(text, isError);
  }

  function showUser(user) {
    $("user-username").textContent = user.username;
    $("user-email").textContent = user.email;
    $("user-id").textContent = user.id;
    $("user-roles").textContent = user.roles.length ? user.roles.join(", ") : "—";
    $("login-form").hidden = true;
    $("account").hidden = false;
    setStatus(`Signed in as ${user.username}`);
  }

  async function loadUser() {
    const result = await withRefresh("GET", "/api/me/");
    if (result.status === 200) {
      showUser(result.data);
    } else {
      showLoggedOut("Not signed in");
    }
  }

  async function logIn(event) {
    event.preventDefault();
    setStatus("Signing in…");
    const result = await call("POST", "/auth/login/", {
      username: $("username").value,
      password: $("password").value,
      transport: "cookie",
    });
    $("password").value = "";
    if (result.status === 200) {
      await loadUser();
    } else {
      showLoggedOut(errorOf(result).message || `Login failed (${result.status})`, true);
    }
  }

  async function refreshTokens() {
    if (await refresh()) {
      await loadUser();
      setStatus(`Tokens refreshed; signed in as ${$("user-username").textContent}`);
    } else {
      showLoggedOut("The session has ended; please sign in again", true);
    }
  }

  async function logOut() {
    const result = await withRefresh("POST", "/auth/logout/", {});
    if (result.status === 204 || result.status === 401) {
      showLoggedOut("Logged out");
    } else {
      setStatus(errorOf(result).message || `Logout failed (${result.status})`, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", logIn);
    $("whoami").addEventListener("click", loadUser);
    $("refresh").addEventListener("click", refreshTokens);
    $("logout").addEventListener("click", logOut);
    loadUser();
  });
})();
