import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Layout, RequireSession } from "./components/Layout";
import { AcceptInvitation } from "./pages/AcceptInvitation";
import { Approvals } from "./pages/Approvals";
import { CampaignPage, Campaigns } from "./pages/Campaigns";
import { ConfirmSignup } from "./pages/ConfirmSignup";
import { Connections } from "./pages/Connections";
import { Inbox } from "./pages/Inbox";
import { ItemPage } from "./pages/ItemPage";
import { Login } from "./pages/Login";
import { NotFound } from "./pages/NotFound";
import { ResetPassword } from "./pages/ResetPassword";
import { Signup } from "./pages/Signup";
import { Settings } from "./pages/settings/Settings";
import { Team } from "./pages/Team";

// The charts library loads with the analytics page only: the first page stays small.
const Analytics = lazy(() => import("./pages/Analytics").then((m) => ({ default: m.Analytics })));

// The paths the API's e-mails link to (api/services/accounts.py, invitations.py) are routes
// here: /login, /confirm-signup#token=…, /reset-password#token=…, /accept-invitation#token=….
export function App() {
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route path="/signup" element={<Signup />} />
      <Route path="/confirm-signup" element={<ConfirmSignup />} />
      <Route path="/reset-password" element={<ResetPassword />} />
      <Route path="/accept-invitation" element={<AcceptInvitation />} />
      <Route element={<RequireSession />}>
        <Route element={<Layout />}>
          <Route path="/" element={<Navigate to="/inbox" replace />} />
          <Route path="/inbox" element={<Inbox />} />
          <Route path="/inbox/:itemId" element={<ItemPage />} />
          <Route path="/connections" element={<Connections />} />
          <Route path="/approvals" element={<Approvals />} />
          <Route path="/campaigns" element={<Campaigns />} />
          <Route path="/campaigns/:campaignId" element={<CampaignPage />} />
          <Route path="/team" element={<Team />} />
          <Route path="/settings" element={<Settings />} />
          <Route
            path="/analytics"
            element={
              <Suspense fallback={<p role="status">Loading…</p>}>
                <Analytics />
              </Suspense>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Route>
    </Routes>
  );
}
