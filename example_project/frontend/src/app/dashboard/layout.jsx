import DashboardShell from "@/components/DashboardShell";

// Re-declares the template: a plain title here would drop it for child pages.
export const metadata = { title: { default: "Overview", template: "%s · SkillSwap" } };

export default function DashboardLayout({ children }) {
  return <DashboardShell>{children}</DashboardShell>;
}
