export const metadata = { title: "Tips" };

export default function Layout({ children }) {
  return children;
}
