import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { api, check, unwrap } from "../api/client";
import { clearSession, hasSession, onSessionEnded } from "../api/session";

/** Children render only with a session; when the API ends it, the login page says why. */
export function RequireSession() {
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      onSessionEnded((reason) => {
        queryClient.clear();
        navigate("/login", { replace: true, state: { message: reason, from: location.pathname + location.search } });
      }),
    [navigate, queryClient, location],
  );
  if (!hasSession()) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/api/v1/me")), staleTime: 60_000 });
}

export function Layout() {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  async function logOut() {
    // The session ends at the API first, so the refresh token cannot be used again.
    try {
      check(await api.POST("/api/v1/auth/logout"));
    } finally {
      clearSession();
      queryClient.clear();
      navigate("/login", { replace: true, state: { message: "You are logged out." } });
    }
  }

  return (
    <div className="shell">
      <a className="skip" href="#main">Skip to content</a>
      <header className="topbar">
        <span className="brand" aria-hidden="true">★ plaudit</span>
        <nav aria-label="Main">
          <NavLink to="/inbox">Inbox</NavLink>
          <NavLink to="/approvals">Approvals</NavLink>
          <NavLink to="/analytics">Analytics</NavLink>
          <NavLink to="/campaigns">Campaigns</NavLink>
          <NavLink to="/connections">Connections</NavLink>
          <NavLink to="/team">Team</NavLink>
          <NavLink to="/settings">Settings</NavLink>
        </nav>
        <div className="who">
          {me.data && (
            <span className="org" title={me.data.user.email}>
              {me.data.organisation.name}
            </span>
          )}
          <button type="button" className="link" onClick={logOut}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
