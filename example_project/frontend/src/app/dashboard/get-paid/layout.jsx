export const metadata = { title: "Get paid" };

export default function Layout({ children }) {
  return children;
}
