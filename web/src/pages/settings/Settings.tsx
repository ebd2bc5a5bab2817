import { useMe } from "../../components/Layout";
import { Alerts } from "./Alerts";
import { AuditLog } from "./AuditLog";
import { FeedbackSettings } from "./FeedbackSettings";
import { Encryption, Redaction, Retention, SubjectRequests } from "./Privacy";
import { Webhooks } from "./Webhooks";

/** The organisation's settings, each section shown to the roles the API lets change it. */
export function Settings() {
  const me = useMe();
  const role = me.data?.role;
  const admin = role === "owner" || role === "admin";
  const owner = role === "owner";
  const sections = [
    ["alerts", "Alerts and digests", true],
    ["feedback", "Feedback and branding", true],
    ["webhooks", "Outbound webhooks", admin],
    ["redaction", "Redaction", admin],
    ["retention", "Retention", owner],
    ["requests", "Data-subject requests", admin],
    ["audit", "Audit log", admin],
    ["encryption", "Encryption", owner],
  ] as const;
  return (
    <section className="page settings">
      <h1>Settings</h1>
      <nav aria-label="Settings sections" className="subnav">
        {sections.filter(([, , shown]) => shown).map(([id, title]) => (
          <a key={id} href={`#${id}`}>
            {title}
          </a>
        ))}
      </nav>
      <Alerts />
      {me.data && <FeedbackSettings canEdit={admin} />}
      {admin && <Webhooks />}
      {admin && <Redaction />}
      {owner && <Retention />}
      {admin && <SubjectRequests />}
      {admin && <AuditLog />}
      {owner && <Encryption />}
    </section>
  );
}
