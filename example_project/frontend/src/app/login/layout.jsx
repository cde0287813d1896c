export const metadata = { title: "Log in" };

export default function Layout({ children }) {
  return children;
}
