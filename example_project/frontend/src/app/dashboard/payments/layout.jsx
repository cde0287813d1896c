// Keeps the site-wide title template for the nested pages below.
export const metadata = { title: { default: "Payments", template: "%s · SkillSwap" } };

export default function Layout({ children }) {
  return children;
}
