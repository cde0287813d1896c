export const metadata = { title: "Staff" };

export default function Layout({ children }) {
  return children;
}
