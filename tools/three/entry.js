export {
  WebGLRenderer, Scene, PerspectiveCamera, Mesh, BufferGeometry, BufferAttribute,
  MeshStandardMaterial, MeshBasicMaterial, SphereGeometry, AmbientLight, DirectionalLight, HemisphereLight,
  Color, Matrix4, Quaternion, Vector3, Vector2, Raycaster, Group, Line, LineBasicMaterial, SRGBColorSpace,
  DoubleSide, Box3, Sphere, ConeGeometry, CylinderGeometry
} from 'three';
export { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
